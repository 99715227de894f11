/** The folder dsva-torch caches into (built native shims, generated datasets):
 * `$DSVA_TORCH_CACHE`, else `$XDG_CACHE_HOME/dsva-torch`, else `$HOME/.cache/dsva-torch`
 * (`/tmp/.cache/dsva-torch` without a home). In ffi/, whose loader caches the built shim there
 * and must stand alone; the data layer imports it from here. */
export function cacheRoot(): string {
  const env = (k: string) => Deno.env.get(k);
  return env("DSVA_TORCH_CACHE") ??
    (env("XDG_CACHE_HOME") ? `${env("XDG_CACHE_HOME")}/dsva-torch` : undefined) ??
    `${env("HOME") ?? "/tmp"}/.cache/dsva-torch`;
}
