"""The health digest as Block Kit (pure). It stays inside Slack's limits for any cluster size: each section under
3,000 characters, long lists cut with "and N more" (most severe first), and the whole split into messages Slack
takes (50 blocks and about 12,000 characters of text each): the first is the post, the rest its thread replies.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.blocks import messages as split
from bot.core.text import clip
from bot.digest.model import Digest
from bot.digest.text import (
    FULL_LAYOUT_CLUSTERS,
    SECTION_LIMIT,
    cluster_title,
    open_incident_lines,
    section_text,
    verdict,
)
from runbooks.checklist.model import ClusterHealth, Section

__all__ = ["CERT_RENEW_ACTION", "blocks", "messages", "verdict"]

CERT_RENEW_ACTION = "cert_renew"  # the digest's Renew button on an expiring certificate (handlers/security.py)
RENEW_BUTTONS = 5
MESSAGES = 5  # a response URL takes five answers; past them the digest says what was cut


def renew_buttons(cluster: ClusterHealth, section: Section) -> list[Block]:
    """A Renew button per certificate the digest flags (the first five): the click shows the renewal offer."""
    if section.key != "certificates" or not section.findings:
        return []
    buttons = [
        ButtonElement(
            text=clip(f"Renew {f.name}", 75),
            action_id=f"{CERT_RENEW_ACTION}_{i}",
            value=f"{cluster.name}|{f.namespace}/{f.name}",
        )
        for i, f in enumerate(section.findings[:RENEW_BUTTONS])
        if f.namespace
    ]
    return [ActionsBlock(elements=buttons)] if buttons else []


def blocks(digest: Digest) -> list[Block]:
    """The digest as Block Kit: a header with the verdict, then one section per check per cluster."""
    out: list[Block] = [
        HeaderBlock(text="Morning health digest"),
        SectionBlock(text=MarkdownTextObject(text=verdict(digest))),
    ]
    full = len(digest.clusters) <= FULL_LAYOUT_CLUSTERS
    for cluster in digest.clusters:
        out.append(DividerBlock())
        out.append(ContextBlock(elements=[MarkdownTextObject(text=clip(cluster_title(cluster), 2000))]))
        if not cluster.reachable:
            continue
        if full:
            for s in cluster.sections:
                out.append(SectionBlock(text=MarkdownTextObject(text=section_text(s, digest.owners))))
                out.extend(renew_buttons(cluster, s))
        else:  # many clusters: one block each, problem sections only
            text = "\n".join(section_text(s, digest.owners) for s in cluster.sections if not s.clear) or "✅ all clear"
            out.append(SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT))))
    for part in digest.parts:
        out.append(DividerBlock())
        if part.sections:
            out.append(ContextBlock(elements=[MarkdownTextObject(text=f"*{part.title}*")]))
            out.extend(SectionBlock(text=MarkdownTextObject(text=section_text(s))) for s in part.sections)
        if part.lines is not None:
            body = "\n".join(part.lines)
            out.append(SectionBlock(text=MarkdownTextObject(text=clip(f"*{part.title}*\n{body}", SECTION_LIMIT))))
    out.append(DividerBlock())
    incidents = open_incident_lines(digest)
    out.append(
        SectionBlock(text=MarkdownTextObject(text=clip("*Open incidents*\n" + "\n".join(incidents), SECTION_LIMIT)))
    )
    return out


def messages(digest: Digest) -> list[list[Block]]:
    """The digest as the messages Slack takes: the first holds the header and verdict, each later one continues
    it (posted as thread replies, or further answers to ``/health``)."""
    return split(blocks(digest), most=MESSAGES, cut="…the rest is cut: `chatops-bot digest --print` shows it all")
