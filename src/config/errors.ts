/** The configuration error type, shared by the training config and the experiment grids. */

/** A configuration problem; `message` names the field and its source. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
