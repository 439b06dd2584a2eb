"""A document's body: Markdown (or a small HTML subset) rendered, then sanitised into the HTML members read.
Only the sanitised HTML is stored and served: a script, an event-handler attribute or a `javascript:` link never
survives (nh3, the Ammonia sanitiser). Its folded plain text is what full-text search reads."""

import html
import re

import nh3
from markdown_it import MarkdownIt

from shared.text import search_key

TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "strong", "em", "b", "i", "u", "s", "del", "sub", "sup"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

# raw HTML is let through the Markdown parser so that the sanitiser, not the parser, decides what stays
_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_TAG = re.compile(r"<[^>]*>")


def render(source):
    """Markdown (or HTML) → the sanitised HTML that is stored and served."""
    return nh3.clean(
        _markdown.render(source),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def plain_text(sanitised):
    """The words of sanitised HTML (tags become spaces so blocks do not run together)."""
    return html.unescape(_TAG.sub(" ", sanitised))


def search_text(title, summary, sanitised_body):
    """What full-text search matches: title, summary and body, diacritics and case folded (đ → d)."""
    # the title twice: a match in it ranks above the same words deep in a body (one column keeps both backends alike)
    return search_key(" ".join((title, title, summary or "", plain_text(sanitised_body))))
