# kbook's configuration for Jupyter's own exporter:
#
#   jupyter nbconvert --to html --config PATH/TO/kbook/assets/export/nbconvert_config.py NOTEBOOK.ipynb
#
# nbconvert 6.5 (Debian 12) passes every SVG output, highlighted input, raw cell and (with
# sanitize_html) markdown and HTML output through a `clean_html` filter, which is lxml's
# Cleaner: it strips SVG down to bare text (no <rect>, <g>, <path>, viewBox), so flame graphs
# and charts come out empty. This file replaces that filter with one that keeps SVG and HTML
# markup under the same policy `kbook export` applies (see lib/export/sanitize/policy.ts):
#
# - HTML: an allow-list of elements and attributes; no script, iframe, form, event handler,
#   javascript: link or remote image.
# - SVG: every drawing element kept; removed are scripts, event handlers, animation elements
#   (they can rewrite links) and references outside the output; ids inside an SVG get a prefix
#   so two graphs on a page do not collide; <style> rules are nested under the output.
# - A <script> survives only when its text is exactly a script kbook ships in
#   assets/flamegraph/*.js (the flame graph's search and zoom), optionally applied to one JSON
#   value (`SCRIPT(CONFIG);`, how the flame graph gets its settings): JSON run as JavaScript is a
#   literal, so the notebook supplies data, never code, and cannot run script in the page.
#
# It also makes the page self-contained offline: images are embedded, and the require.js and
# MathJax <script src> nbconvert adds point at empty data: scripts instead of a CDN.
import html
import itertools
import json
import pathlib
import re
from html.parser import HTMLParser

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

_HERE = pathlib.Path(__file__).resolve().parent


def _shipped_scripts():
    # The same folders kbook export reads (lib/export/trust.ts: OUTPUT_SCRIPT_CONCERNS).
    scripts = set()
    for concern in ("flamegraph", "viz"):
        folder = _HERE.parent / concern
        if folder.is_dir():
            scripts.update(p.read_text(encoding="utf-8").strip() for p in sorted(folder.glob("*.js")))
    return scripts


KBOOK_SCRIPTS = _shipped_scripts()

HTML_ELEMENTS = set(
    "a abbr address article aside b bdi bdo blockquote br caption center cite code col colgroup dd del details dfn div dl dt "
    "em figcaption figure font footer h1 h2 h3 h4 h5 h6 header hr i img input ins kbd label li main mark nav ol p pre q rp rt "
    "ruby s samp section small span strong sub summary sup table tbody td tfoot th thead time tr tt u ul var wbr".split()
)
HTML_DROPPED = set(
    "script noscript template iframe frame frameset object embed applet param base link meta title head textarea select "
    "option optgroup button form audio video source track canvas math portal xmp plaintext listing noembed noframes dialog slot".split()
)
HTML_VOID = set("area base br col embed hr img input link meta source track wbr".split())
HTML_ATTRIBUTES = set(
    "class id title lang dir style role align valign width height colspan rowspan headers scope span border cellpadding "
    "cellspacing summary start reversed type value open datetime alt nowrap abbr color size face bgcolor href src target "
    "placeholder checked disabled readonly".split()
)
SVG_ELEMENTS = set(
    "svg g defs symbol use title desc metadata switch view rect circle ellipse line polyline polygon path text tspan textpath "
    "a image lineargradient radialgradient stop pattern clippath mask marker filter foreignobject style "
    "feblend fecolormatrix fecomponenttransfer fecomposite feconvolvematrix fediffuselighting fedisplacementmap "
    "fedistantlight fedropshadow feflood fefunca fefuncb fefuncg fefuncr fegaussianblur feimage femerge femergenode "
    "femorphology feoffset fepointlight fespecularlighting fespotlight fetile feturbulence".split()
)
SVG_DENIED = set("name attributename begin end dur from to by xml:base srcdoc src formaction action data is nonce".split())
# html.parser lower-cases names; the browser's HTML parser restores SVG's camelCase itself.

_ATTRIBUTE_NAME = re.compile(r"^[a-zA-Z_:][-a-zA-Z0-9_:.]*$")
_IMAGE_DATA_URL = re.compile(r"^data:image/(?:png|jpeg|gif|webp|svg\+xml)(?:;[a-z0-9=.+-]*)*,[a-z0-9+/=%\s._~:;,!*'()-]*$", re.I)
_SAFE_SCHEMES = ("http", "https", "mailto")
_scopes = itertools.count(1)


def _reject_constant(name):
    raise ValueError("not JSON: " + name)


def _is_shipped_script(source):
    text = source.strip()
    for script in KBOOK_SCRIPTS:
        if not text.startswith(script):
            continue
        rest = text[len(script) :].strip()
        if rest == "":
            return True
        call = re.match(r"^\(([\s\S]*)\);?$", rest)
        if not call or not re.match(r"^\s*[{\[]", call.group(1)):
            continue
        try:
            json.loads(call.group(1), parse_constant=_reject_constant)
            return True
        except ValueError:
            continue
    return False


def _safe_link(href):
    compact = re.sub(r"[\x00-\x20\x7f-\x9f]", "", href)
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", compact, re.I)
    if not scheme:
        return href.strip()
    return href.strip() if scheme.group(1).lower() in _SAFE_SCHEMES else None


def _rewrite_urls(value, prefix):
    if "\\" in value or re.search(r"(?:image-set|cross-fade|expression)\s*\(|(?<![-\w])(?:image|src|element)\s*\(", value, re.I):
        return None

    def replace(match):
        target = re.sub(r"^([\"'])(.*)\1$", r"\2", match.group(1).strip(), flags=re.S).strip()
        if re.match(r"^#[-\w.:]+$", target):
            return "url(#%s%s)" % (prefix, target[1:])
        if _IMAGE_DATA_URL.match(target) and not re.search(r"[\"'()\s]", target):
            return "url(%s)" % target
        return "none"

    rewritten = re.sub(r"url\(([^)]*)\)", replace, value, flags=re.I)
    rest = re.sub(r"url\(#[-\w.:]+\)|url\(data:image/[^\"'()\s]*\)", "", rewritten, flags=re.I)
    return None if re.search(r"url\s*\(", rest, re.I) else rewritten


def _extract_at_blocks(css, pattern):
    blocks, rest = [], css
    while True:
        match = re.search(pattern, rest, re.I)
        if not match:
            return blocks, rest
        opening = rest.find("{", match.start())
        depth, end = 0, opening
        while opening >= 0 and end < len(rest):
            if rest[end] == "{":
                depth += 1
            elif rest[end] == "}":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        if opening < 0 or end >= len(rest):
            return blocks, rest[: match.start()]
        blocks.append(rest[match.start() : end + 1])
        rest = rest[: match.start()] + rest[end + 1 :]


def _sanitize_css(css, prefix, sheet):
    if "\\" in css or (sheet and re.search(r"</?style|<!--", css, re.I)):
        return None
    text = re.sub(r"/\*[\s\S]*?\*/", "", css)
    text = re.sub(r"@(?:import|namespace|charset)[^;{}]*;?", "", text, flags=re.I)
    text = _extract_at_blocks(text, r"@font-face\b")[1]
    if re.search(r"-moz-binding|behavior\s*:|javascript:", text, re.I):
        return None
    return _rewrite_urls(text, prefix) if "(" in text else text


def _braces_balance(css):
    depth = 0
    for c in css:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _scope_sheet(css, container, prefix):
    # A stray "}" would close the container's rule and let the rest apply to the whole page.
    if not _braces_balance(css):
        return None
    keyframes, rest = _extract_at_blocks(css, r"@(?:-webkit-)?keyframes\b")

    def rename(match):
        selector = match.group(1)
        if not selector.lstrip().startswith("@"):
            selector = re.sub(r"#(-?[_a-zA-Z][-_a-zA-Z0-9]*)", "#" + prefix + r"\1", selector)
        return selector + "{"

    # A selector is the text before a "{" back to the previous "}", "{" or ";".
    return "\n".join(keyframes) + container + "{" + re.sub(r"(?:(?<=^)|(?<=[{};]))([^{};]*)\{", rename, rest) + "}"


def _escape_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Sanitizer(HTMLParser):
    def __init__(self, scope):
        super().__init__(convert_charrefs=True)
        self.scope = scope
        self.prefix = scope + "-"
        self.out = []
        # Open elements: [name, namespace of children, mode, collected text, namespace, start tag].
        self.stack = []
        self.scoped = False

    def _namespace(self):
        return self.stack[-1][1] if self.stack else "html"

    def _attribute(self, element, ns, name, value):
        if not _ATTRIBUTE_NAME.match(name) or name.startswith("on"):
            return None
        if element == "script":
            return value if name == "type" else None
        if name == "id":
            # Every id, HTML and SVG, joins the output's scope: style sheets are rewritten to match.
            return self.prefix + value
        if name == "style":
            return _sanitize_css(value, self.prefix, False)
        if ns == "html":
            if name not in HTML_ATTRIBUTES and not re.match(r"^(aria|data)-[a-z0-9_.-]+$", name):
                return None
            if name == "href":
                return _safe_link(value) if element == "a" else None
            if name == "src":
                return value.strip() if element == "img" and _IMAGE_DATA_URL.match(value.strip()) else None
            if name == "target":
                return value if value == "_blank" else None
            if name == "type" and element == "input":
                return value if value.lower() in ("search", "text", "checkbox") else None
            return value
        if name in SVG_DENIED:
            return None
        if name in ("href", "xlink:href"):
            if element == "a":
                return _safe_link(value)
            target = value.strip()
            if target.startswith("#"):
                return "#" + self.prefix + target[1:]
            return target if element in ("image", "feimage") and _IMAGE_DATA_URL.match(target) else None
        return _rewrite_urls(value, self.prefix) if "(" in value else value

    def _open(self, tag, attrs, self_closing):
        parent = self.stack[-1] if self.stack else None
        if parent and parent[2] in ("drop", "collect"):
            if not (self_closing or tag in HTML_VOID):
                self.stack.append([tag, parent[1], "drop", None, parent[1], ""])
            return
        ns = "svg" if (tag == "svg" or self._namespace() == "svg") else "html"
        if tag in ("script", "style"):
            mode = "collect"
        elif ns == "svg":
            mode = "keep" if tag in SVG_ELEMENTS else "drop"
        else:
            mode = "keep" if tag in HTML_ELEMENTS or tag == "svg" else ("drop" if tag in HTML_DROPPED else "unwrap")
        child_ns = "html" if (ns == "svg" and tag == "foreignobject") else ns
        frame = [tag, child_ns, mode, [] if mode == "collect" else None, ns, ""]
        if mode in ("keep", "collect"):
            out = "<" + tag
            for name, value in attrs:
                kept = self._attribute(tag, ns, name, value or "")
                if kept is not None:
                    out += ' %s="%s"' % (name, html.escape(kept, quote=True))
            if ns == "html" and tag == "a":
                out += ' rel="noopener noreferrer"'
            frame[5] = out + ">"
            if mode == "keep":
                self.out.append(frame[5])
        void = ns == "html" and tag in HTML_VOID
        if self_closing or void:
            if mode == "keep" and not void:
                self.out.append("</%s>" % tag)
            if mode == "collect":
                self.stack.append(frame)
                self._close_top()
            return
        self.stack.append(frame)

    def _close_top(self):
        tag, _child_ns, mode, collected, ns, start = self.stack.pop()
        if mode == "keep":
            self.out.append("</%s>" % tag)
        elif mode == "collect":
            self._finish_collected(tag, ns, start, "".join(collected))

    def _finish_collected(self, tag, ns, start, source):
        cdata = re.match(r"^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$", source)
        # In SVG the browser reads character references inside <script>/<style>; CDATA is literal.
        text = cdata.group(1) if cdata else (html.unescape(source) if ns == "svg" else source)
        if tag == "style":
            css = _sanitize_css(text, self.prefix, True)
            if css is None:
                return
            body = _scope_sheet(css, "." + self.scope, self.prefix)
            if body is None:
                return
            self.scoped = True
            if ns == "html":
                if re.search(r"</style", body, re.I):
                    return
                self.out.append(start + body + "</style>")
            else:
                self.out.append(start + _escape_text(body) + "</style>")
            return
        if not _is_shipped_script(text):
            return
        if ns == "svg":
            self.out.append(start + _escape_text(text) + "</script>")
        elif not re.search(r"</script|<!--", text, re.I):
            # An HTML <script> is raw text: it cannot be escaped, so it must not be able to end early.
            self.out.append(start + text + "</script>")

    def handle_starttag(self, tag, attrs):
        self._open(tag, attrs, False)

    def handle_startendtag(self, tag, attrs):
        self._open(tag, attrs, True)

    def handle_endtag(self, tag):
        names = [frame[0] for frame in self.stack]
        if tag not in names:
            return
        while self.stack:
            top = self.stack[-1][0]
            self._close_top()
            if top == tag:
                return

    def handle_data(self, data):
        if self.stack and self.stack[-1][2] == "collect":
            self.stack[-1][3].append(data)
        elif not self.stack or self.stack[-1][2] != "drop":
            self.out.append(_escape_text(data))

    def unknown_decl(self, data):
        if data.startswith("CDATA[") and self._namespace() == "svg":
            self.handle_data(data[len("CDATA[") :])

    def result(self):
        self.close()
        while self.stack:
            self._close_top()
        body = "".join(self.out)
        return '<div class="%s">%s</div>' % (self.scope, body) if self.scoped else body


def kbook_clean_html(text):
    """nbconvert's `clean_html` filter, keeping SVG (see the top of this file)."""
    sanitizer = _Sanitizer("kbook-out-%d" % next(_scopes))
    sanitizer.feed(str(text))
    return sanitizer.result()


c.HTMLExporter.filters = {"clean_html": kbook_clean_html}
# Markdown cells and HTML outputs go through the same filter (nbconvert 6.5 leaves them raw).
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.embed_images = True
# Jupyter Book's remove-* cell tags, as kbook export honours them (hide-* needs a template change
# nbconvert 6.5 does not have, so hidden parts are shown).
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_cell_tags = ("remove-cell", "remove_cell")
c.TagRemovePreprocessor.remove_input_tags = ("remove-input", "remove_input")
c.TagRemovePreprocessor.remove_all_outputs_tags = ("remove-output", "remove_output")
c.HTMLExporter.require_js_url = "data:text/javascript,"
c.HTMLExporter.mathjax_url = "data:text/javascript,"
