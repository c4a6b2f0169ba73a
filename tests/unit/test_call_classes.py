"""R39: the rendered [pbx-class] classifies as pbx.services.call_policy.classify does.

The dialplan's walk is replayed here on the same rendered patterns (Python's re reads the
POSIX bodies the same way), on every region's example number of every type and on random
numbers, from a GB and a home site."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from pbx.asterisk.call_classes import RegionPatterns, country_codes, region_patterns, render_classes, to_posix
from pbx.services.call_policy import NON_GEOGRAPHIC, classify


def _m(pattern: str, digits: str, whole: bool = True) -> bool:
    return bool(pattern) and re.search(f"^({pattern}){'$' if whole else ''}", digits) is not None


def _belongs(p: RegionPatterns, n: str) -> bool:
    return bool(p.numbers or p.valid) and all(_m(x, n) for x in (p.numbers, p.valid) if x)


def dialplan_classify(e164: str, country: str) -> tuple[str, ...]:
    digits = e164[1:]
    code, regions = next(((c, r) for c, r in country_codes().items() if digits.startswith(str(c))), (0, []))
    if not regions:
        return ("international",)
    if regions == [NON_GEOGRAPHIC]:
        return ("satellite",)
    n = digits[len(str(code)) :]
    patterns = [region_patterns(r) for r in regions]
    p = patterns[0]
    if len(patterns) > 1 and not _belongs(p, n):
        p = next((o for o in patterns[1:] if (o.leading and _m(o.leading, n, False)) or _belongs(o, n)), p)
    own = "national"
    if p.numbers and not _m(p.numbers, n):
        own = "national"
    elif _m(p.premium, n):
        own = "premium"
    elif _m(p.mobile, n) and not _m(p.fixed, n):
        own = "mobile"
    if p.region == country:
        return (own,)
    return ("international", "premium") if own == "premium" else ("international",)


def _examples() -> list[str]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(set(found))


def test_r39_the_dialplan_agrees_with_phonenumbers_on_every_example_number():
    wrong = [
        (e164, site, classify(e164, site), dialplan_classify(e164, site))
        for e164 in _examples()
        for site in ("GB", phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or "US")
        if classify(e164, site) != dialplan_classify(e164, site)
    ]
    assert wrong == []


def test_r39_the_dialplan_agrees_on_random_numbers():
    rng = random.Random(39)
    codes = list(country_codes())
    numbers = [
        f"+{rng.choice(codes)}{rng.randint(1, 9)}{rng.randint(0, 10**10):0{rng.randint(5, 10)}d}" for _ in range(3000)
    ]
    assert [(n, classify(n, "GB")) for n in numbers] == [(n, dialplan_classify(n, "GB")) for n in numbers]


def test_r39_the_rendered_patterns_are_plain_posix():
    bodies = re.findall(r'REGEX\("\^\((.*?)\)\$?" ', "\n".join(render_classes()))
    assert len(bodies) > 500
    assert all(re.fullmatch(r"[0-9\[\]\-|(){},?*+]+", b) and "(?" not in b for b in bodies)
    with pytest.raises(ValueError):
        to_posix("(?=1)2")
