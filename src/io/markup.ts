/** Escaping text for HTML and SVG (reports, charts, the text layer of pictures): the one copy. */

/** `s` safe inside HTML/SVG text and quoted attribute values. */
export function escapeMarkup(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  )
    .replace(/'/g, "&apos;");
}
