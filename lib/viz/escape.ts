/**
 * Escaping for text put into HTML. Every string from a notebook (markdown text, code, outputs,
 * metadata) passes through one of these before it reaches the page.
 */
const TEXT_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => TEXT_ESCAPES[c]!);
}

/**
 * Makes text safe inside an HTML `<script>` element holding JSON or JavaScript: the HTML parser
 * ends a script at `</script` and changes state at `<!--`, whatever the JavaScript means, so `<`
 * is written as the JSON/JS escape `\u003c`, which both read back as "<". Only valid where the
 * text is inside a string literal or is JSON; for whole scripts see `escapeInlineScript`.
 */
export function escapeJsonForScript(json: string): string {
  return json.replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * Checks a JavaScript file can sit inside `<script>…</script>` unchanged: it must not contain
 * `</script` or `<!--`. kbook inlines only scripts it ships or bundles, so this is a build fact,
 * and a failure is a bug to fix there, not something to patch up silently.
 */
export function assertInlineableScript(source: string, name: string): string {
  if (/<\/script|<!--/i.test(source)) throw new Error(`kbook: ${name} cannot be inlined in <script>: it contains </script or <!--`);
  return source;
}
