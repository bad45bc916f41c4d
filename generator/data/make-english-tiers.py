#!/usr/bin/env python3
"""Regenerates english-tiers.txt from Debian's SCOWL word lists.

apt-get install wamerican-small wamerican wamerican-large
Tier 1: in wamerican-small (SCOWL size 35, the most common words and their forms);
tier 2: also in wamerican (size 50); tier 3: also in wamerican-large (size 70).
A word in none of them counts as rare (technical, a name, or a split fragment).
"""
import re

def load(path):
    with open(path, encoding="utf-8", errors="ignore") as f:
        return {w.strip() for w in f if re.fullmatch(r"[a-z]+", w.strip())}

small = load("/usr/share/dict/american-english-small")
medium = load("/usr/share/dict/american-english")
large = load("/usr/share/dict/american-english-large")
tiers = [sorted(small), sorted(medium - small), sorted(large - medium - small)]
with open("english-tiers.txt", "w") as out:
    out.write("# SCOWL word lists as shipped by Debian (wamerican-small, wamerican, wamerican-large); see LICENSE-SCOWL.\n")
    out.write("# Lower-case words only, one per line, in three commonness tiers (SCOWL sizes 35, 50, 70).\n")
    for i, words in enumerate(tiers, 1):
        out.write(f"@{i}\n" + "\n".join(words) + "\n")
