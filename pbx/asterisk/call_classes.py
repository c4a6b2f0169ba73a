"""R39 at call time: [pbx-class], the dialplan subroutine that classifies a destination.

Rendered once from phonenumbers' metadata (static data, like national dialling in
render.py), never per number: a country's patterns of each number type become POSIX
regular expressions that REGEX() evaluates. The classes mirror pbx.services.call_policy.classify,
which is the reference (tests/unit/test_call_classes.py compares the two on every
region's example numbers):

  Gosub(pbx-class,<E.164>,1(<site country, lower case>))
  GOSUB_RETVAL = "<class>+<class>": the two classes the call needs (the same one twice
  when it needs one), e.g. "mobile+mobile", "international+premium".

A country code is found by the extension pattern (country codes are prefix-free); a code
shared by several regions (+1, +7, +44, ...) then tries each region as phonenumbers does:
the main region when the number is one of its own, else the first region whose leading
digits or numbers match, else the main region. In a region, at most four patterns are
tried: its numbers at all, premium/special-rate, mobile, fixed line (only when mobile
matched: where the two overlap, the number is national).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneMetadata

from pbx.services.call_policy import INTERNATIONAL, MOBILE, NATIONAL, NON_GEOGRAPHIC, PREMIUM, SATELLITE

ENTRY = "pbx-class"
# Digits, classes, groups, alternation and counts: nothing the dialplan parser or REGEX's
# quoting could read otherwise (no '"', ';', '$', '\\').
_POSIX = re.compile(r"[0-9\[\]\-|(){},?*+]+")
_PREMIUM_DESCS = ("premium_rate", "shared_cost", "personal_number", "pager")
_TYPE_DESCS = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


@dataclass(frozen=True)
class RegionPatterns:
    """One region's number patterns as POSIX ERE bodies (unanchored); "" when it has none."""

    region: str
    leading: str  # leading digits that name the region under a shared code ("" none)
    numbers: str  # any number of the region (general description)
    valid: str  # a number of one of its types (phonenumbers' "valid"), to tell regions of a shared code apart
    premium: str
    mobile: str
    fixed: str


def to_posix(pattern: str) -> str:
    """phonenumbers' Python regex -> POSIX ERE: non-capturing groups and \\d are all they use."""
    posix = pattern.replace("(?:", "(").replace("\\d", "[0-9]")
    if not _POSIX.fullmatch(posix) or "(?" in posix:
        raise ValueError(f"pattern not expressible as a dialplan REGEX: {pattern!r}")
    return posix


def _pattern(metadata: PhoneMetadata, desc: str) -> str:
    found = getattr(metadata, desc)
    return to_posix(found.national_number_pattern) if found is not None and found.national_number_pattern else ""


def region_patterns(region: str) -> RegionPatterns:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise ValueError(f"no metadata for region {region!r}")
    premium = [p for p in (_pattern(metadata, d) for d in _PREMIUM_DESCS) if p]
    types = [p for p in (_pattern(metadata, d) for d in _TYPE_DESCS) if p]
    return RegionPatterns(
        region=region,
        leading=to_posix(metadata.leading_digits) if metadata.leading_digits else "",
        numbers=_pattern(metadata, "general_desc"),
        valid="|".join(types),
        premium="|".join(premium),
        mobile=_pattern(metadata, "mobile"),
        fixed=_pattern(metadata, "fixed_line"),
    )


def country_codes() -> dict[int, list[str]]:
    """Every country code and its regions, main region first (phonenumbers' order)."""
    return {code: list(regions) for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items())}


def _is_satellite(regions: list[str]) -> bool:
    return regions == [NON_GEOGRAPHIC]


def render_classes() -> list[str]:
    """[pbx-class] and its per-code and per-region contexts."""
    codes = country_codes()
    entry = [
        f"[{ENTRY}]",
        "; R39: GOSUB_RETVAL = the two classes a call to E.164 EXTEN from a site in ARG1 needs",
        "; (pbx/asterisk/call_classes.py). An unknown country code is international.",
        f"exten => _+X.,1,Return({INTERNATIONAL}+{INTERNATIONAL})",
    ]
    regions_out: list[str] = []
    for code, regions in codes.items():
        if _is_satellite(regions):
            entry.append(f"exten => _+{code}.,1,Return({SATELLITE}+{SATELLITE})")
            continue
        cut = len(str(code)) + 1
        if len(regions) == 1:
            entry.append(f"exten => _+{code}.,1,Goto({ENTRY}-{regions[0].lower()},${{EXTEN:{cut}}},1)")
        else:
            entry.append(f"exten => _+{code}.,1,Goto({ENTRY}-cc{code},${{EXTEN:{cut}}},1)")
            regions_out += ["", *_shared_code(code, [region_patterns(r) for r in regions])]
        for region in regions:
            regions_out += ["", *_region(region_patterns(region))]
    return entry + regions_out


def _regex(pattern: str, whole: bool = True) -> str:
    return f'${{REGEX("^({pattern}){"$" if whole else ""}" ${{EXTEN}})}}'


def _belongs(p: RegionPatterns) -> str:
    """A condition: EXTEN is a number of one of region p's types (phonenumbers' number_type is known)."""
    tests = [_regex(x) for x in (p.numbers, p.valid) if x]
    return "0" if not tests else tests[0] if len(tests) == 1 else f"$[{tests[0]} & {tests[1]}]"


def _shared_code(code: int, regions: list[RegionPatterns]) -> list[str]:
    """Which region of a shared code the national number EXTEN belongs to (phonenumbers' order)."""
    main, others = regions[0], regions[1:]
    lines = [f"[{ENTRY}-cc{code}]", "exten => _X.,1,NoOp()"]
    lines.append(f" same => n,GotoIf({_belongs(main)}?{ENTRY}-{main.region.lower()},${{EXTEN}},1)")
    for other in others:
        if other.leading:
            lines.append(
                f" same => n,GotoIf({_regex(other.leading, whole=False)}?{ENTRY}-{other.region.lower()},${{EXTEN}},1)"
            )
        lines.append(f" same => n,GotoIf({_belongs(other)}?{ENTRY}-{other.region.lower()},${{EXTEN}},1)")
    lines.append(f" same => n,Goto({ENTRY}-{main.region.lower()},${{EXTEN}},1)")
    return lines


def _region(p: RegionPatterns) -> list[str]:
    """A national number EXTEN of region p, called from a site in ARG1."""
    home = p.region.lower()

    def back(own: str, abroad: str) -> str:
        return f'Return(${{IF($["${{ARG1}}" = "{home}"]?{own}+{own}:{abroad})}})'

    lines = [f"[{ENTRY}-{home}]", "exten => _X.,1,NoOp()"]
    if p.numbers:
        lines.append(f" same => n,GotoIf({_regex(p.numbers)}?:national)")
    if p.premium:
        lines.append(f" same => n,GotoIf({_regex(p.premium)}?premium)")
    if p.mobile:
        lines.append(f" same => n,GotoIf({_regex(p.mobile)}?:national)")
        if p.fixed:
            lines.append(f" same => n,GotoIf({_regex(p.fixed)}?national)")
        lines.append(f" same => n,{back(MOBILE, f'{INTERNATIONAL}+{INTERNATIONAL}')}")
    lines.append(f" same => n(national),{back(NATIONAL, f'{INTERNATIONAL}+{INTERNATIONAL}')}")
    lines.append(f" same => n(premium),{back(PREMIUM, f'{INTERNATIONAL}+{PREMIUM}')}")
    return lines
