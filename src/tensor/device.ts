/** Devices: `cpu`, `cuda`, `cuda:N`, as strings and as libtorch (type, index). */

/** A device string. */
export type Device = "cpu" | "cuda" | `cuda:${number}`;

/** c10::DeviceType codes we use. */
export const DEVICE_TYPE = { cpu: 0, cuda: 1 } as const;

export interface ParsedDevice {
  type: number;
  index: number;
}

export function parseDevice(d: string): ParsedDevice {
  if (d === "cpu") return { type: 0, index: -1 };
  const m = /^cuda(?::(\d+))?$/.exec(d);
  if (!m) throw new TypeError(`unknown device "${d}"; expected "cpu", "cuda" or "cuda:N"`);
  return { type: 1, index: m[1] === undefined ? -1 : Number(m[1]) };
}

export function deviceName(type: number, index: number): Device {
  if (type === 0) return "cpu";
  if (type === 1) return index < 0 ? "cuda" : `cuda:${index}`;
  throw new RangeError(`unsupported device type ${type}`);
}
