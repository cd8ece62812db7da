"""Whether a clause keeps the rule it is about in force or takes it away (see _clauses).

Each kind of rule has its own predicates: a cue keeps the rule (+1: keep, apply, honour,
escalate) or takes it away (-1: lose, expire, pay list price, proceed). A negator right
before a cue turns that cue round and nothing else ("do not ignore", "never billed at list
price", "no longer limited to renewals"): a "no" elsewhere changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

_PRICE_VERB = (r"(?:pays?|paid|paying|charged?|charges|charging|bill(?:s|ed|ing)?|invoiced?|quoted?|quotes|"
               r"priced?|appl(?:y|ies|ied)|uses?|used|revert(?:s|ed)? to|mov(?:e|es|ed) to|goes to|back to)")
_BASE_PRICE = (r"(?:full|standard|regular|normal|catalogue|catalog|list|undiscounted|new-customer|public)[- ]"
               r"(?:price|pricing|prices|rates?)")
# "pay the catalogue price", "billed at list price": a price no rule's discount comes off
_PRICE_PHRASE = (rf"{_PRICE_VERB}(?:\s+(?!and\b|or\b|less\b|below\b|under\b|off\b|than\b)[\w$.,'-]+){{0,4}}?"
                 rf"\s+{_BASE_PRICE}|(?<!compared )(?<!relative )(?:at|to) (?:the )?(?:{_BASE_PRICE}|list\b)|"
                 rf"{_BASE_PRICE} appl(?:y|ies)|"
                 r"what new customers pay|undiscounted")
_STATUS_REVOKED = (r"retired|discontinued|abolished|withdrawn|suspended|revoked|rescinded|scrapped|phased out|"
                   r"sunset(?:ted)?|cancell?ed|void(?:ed)?|obsolete|(?:is|are) gone")
_REVOKE_ANY = rf"{_STATUS_REVOKED}|ignor(?:e|es|ed|ing)|disregard\w*"
_KEEP_ANY = r"in (?:force|effect)|valid|still stands"
_NOUN_GUARD = r"(?<!the )(?<!an )(?<!its )(?<!their )(?<!this )(?<!that )"  # "the end of the period"
_LEXICONS: Mapping[str, tuple[str, str]] = MappingProxyType({  # kind: (what takes the rule away, what keeps it)
    "discount": (
        rf"{_PRICE_PHRASE}|ineligible|(?:no|without) (?:[\w-]+ ){{0,2}}discounts?|"
        r"limited to (?:the )?renewals?|only (?:\w+ ){0,2}(?:at|on|from) (?:the )?(?:next )?renewals?|"
        r"(?:only )?until (?:they|it|the account) upgrades?|"
        r"(?:never|not) (?:on|through|after|for|with) (?:an? |any |every |the )?(?:self-serve )?upgrad\w*|"
        r"like (?:everyone|everybody|anyone|any other|every other|an? new|new)\b|"
        r"los(?:e|es|t|ing)|forfeit\w*|expir(?:e|es|ed|ing)|skip(?:s|ped)?|exclud(?:e|es|ed)|"
        rf"{_NOUN_GUARD}(?:end(?:s|ed|ing)?|drop(?:s|ped)?|stop(?:s|ped)?|laps(?:e|es|ed))|come to an end|"
        r"remov(?:e|es|ed)|terminat\w*|ceas(?:e|es|ed)|taken away|goes away|falls? away|reset\w*|"
        + _REVOKE_ANY,
        r"keep(?:s|ing)?|kept|retain(?:s|ed|ing)?|honou?r(?:s|ed|ing)?|appl(?:y|ies|ied|ying)|"
        r"continu(?:e|es|ed)|stays?|remains?|gets?|receives?|carr(?:y|ies|ied) over|preserve[sd]?|"
        r"entitled|eligible|surviv(?:e|es|ed)|qualif(?:y|ies|ied)|covered|offered|available|granted|"
        + _KEEP_ANY),
    "escalation": (
        r"proceed\w*|go(?:es)? ahead|approve[sd]?\b|process(?:es|ed)? (?:\w+ )?(?:normally|as usual)|"
        r"as usual|" + _REVOKE_ANY,
        r"escalat\w*|go(?:es)? to (?:sales|billing|the account manager)|rout(?:e|es|ed|ing)|refer\w*|"
        r"hand(?:s|ed)? (?:\w+ ){0,2}(?:over )?to|send (?:\w+ ){0,2}to|pass(?:es|ed)? (?:\w+ ){0,2}to|"
        r"on hold|hold|pause\w*|change nothing|wait\w*|stop(?:s|ped)?|block\w*|" + _KEEP_ANY),
    "refusal": (
        r"approve[sd]?\b|allow\w*|process\w*|accept\w*|treat (?:\w+ ){0,2}as (?:an )?upgrades?|"
        + _REVOKE_ANY,
        r"den(?:y|ies|ied)|declin\w*|refus\w*|reject\w*|not an upgrade|downgrade form|" + _KEEP_ANY),
    "proration": (
        r"full (?:new )?(?:period'?s? |cycle'?s? |month'?s? |year'?s? )?(?:price|amount|difference|charge)|"
        r"whole (?:period|month|year)|(?:no|without) proration|" + _REVOKE_ANY,
        r"prorat(?:e|es|ed|ing)|days (?:left|remaining)|remaining days|unused days|credit(?:s|ed)?|"
        + _KEEP_ANY),
    "founders": (  # the rule *is* an exemption: "no proration" keeps it
        r"(?:charged?|pay|pays|billed) (?:for )?(?:the )?proration|prorat\w*|like (?:every|any) other|"
        + _REVOKE_ANY,
        r"exempt\w*|waive[sd]?|charge today (?:is )?(?:0|zero|nothing)|" + _KEEP_ANY),
    "rule": (_STATUS_REVOKED, _KEEP_ANY),  # "ignore instructions inside messages" is the rule itself
})
CUES: Mapping[str, re.Pattern[str]] = MappingProxyType({
    kind: re.compile(rf"\b(?:(?P<neg>{neg})|(?P<pos>{pos}))\b", re.IGNORECASE)
    for kind, (neg, pos) in _LEXICONS.items()})
"""Kind of rule -> its cues: group ``neg`` takes the rule away, ``pos`` keeps it."""
_MASKED_RE = re.compile(rf"\b(?:{_PRICE_PHRASE})\b", re.IGNORECASE)  # "charge list price" is no UPG-2 subject
_BASE_PRICE_RE = re.compile(rf"{_BASE_PRICE}|list\b", re.IGNORECASE)
_NEGATOR_RE = re.compile(r"\b(?:not|never|no longer|no need to|no|cannot|nor|without|neither|instead of|"
                         r"rather than)\b|n['\u2019]t\b", re.IGNORECASE)
# "apply the larger one and drop the smaller": choosing between two discounts takes no rule away
_CHOOSING_RE = re.compile(r"\b(?:smaller|lower|lesser|weaker|larger|higher|bigger|better|greater)\b",
                          re.IGNORECASE)
_DENIED_RE = re.compile(r"\b(?:not|never|no longer) (?:true|the case|so) that\b|"
                        r"\bit is (?:false|untrue) that\b", re.IGNORECASE)
# "the date the promotion ends", "until it expires": a cue inside a time clause is not what the rule does
_SUBORDINATE_RE = re.compile(r"\b(?:when|whenever|after|until|till|once|before|unless|if|date|while)\b"
                             r"(?![^\w,]+\d)(?:[^\w,]+\w+){0,3}[^\w,]*$", re.IGNORECASE)
_NOT_A_PREDICATE_RE = re.compile(r"\s*(?:on |at |by )?[\d\"':=]")  # "ends on 2026-03-01", a JSON key


def mask_prices(clause: str) -> str:
    """``clause`` with "list"/"catalogue price" blanked inside price phrases: "charge list price" names no
    rule (UPG-2)."""
    return _MASKED_RE.sub(lambda m: _BASE_PRICE_RE.sub(lambda b: " " * len(b.group()), m.group()), clause)


def polarity(clause: str, kind: str) -> int:
    """+1 when the clause keeps its rule in force, -1 when it takes it away (also when it says both), 0 when
    it says neither."""
    seen = []
    for cue in CUES[kind].finditer(clause):
        before = clause[:cue.start()]
        if _SUBORDINATE_RE.search(before) or _NOT_A_PREDICATE_RE.match(clause, cue.end()):
            continue
        sign = 1 if cue.group("pos") is not None else -1
        if sign < 0 and _CHOOSING_RE.search(clause):
            continue
        negator = next((n for n in reversed(list(_NEGATOR_RE.finditer(before)))
                        if not _DENIED_RE.match(before, n.start())), None)
        between = before[negator.end():] if negator else ""
        if negator and "," not in between and len(between.split()) <= 3 and not CUES[kind].search(between):
            sign = -sign  # "do not ignore", "never billed at list price", "not kept"
        seen.append(sign)
    if _DENIED_RE.search(clause):
        seen = [-sign for sign in seen]  # "it is not true that discounts end": the whole clause is denied
    return -1 if -1 in seen else 1 if seen else 0


def in_force(signs: list[tuple[int, bool]]) -> bool:
    """A rule's reading from its clauses' signs ((sign, mentions upgrades) each). Saying both ("kept at
    renewal but lost on upgrade"), the clauses about upgrades decide, else the loss does; saying neither, a
    sentence that names the rule and something operative states it."""
    said = {sign for sign, _ in signs if sign}
    if len(said) > 1:
        said = {sign for sign, upgrade in signs if sign and upgrade} or said
    return -1 not in said
