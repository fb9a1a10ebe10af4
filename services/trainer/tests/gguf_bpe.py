"""An independent tokenizer straight from a GGUF file's vocabulary and merges, pre-tokenizing the
way llama.cpp does for `tokenizer.ggml.pre = smollm` (digits split, then the GPT-2 regex).
Test-only: it states what ids the GGUF itself expects."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import regex
from gguf import GGUFReader

SMOLLM_REGEXES = [r"\p{N}", r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"]
CONTROL, USER_DEFINED = 3, 4


def _bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def _split(text: str, pattern: str) -> list[str]:
    """llama.cpp's split: matches and the text between them both become pieces."""
    out, last = [], 0
    for m in regex.finditer(pattern, text):
        if m.start() > last:
            out.append(text[last:m.start()])
        if m.end() > m.start():
            out.append(m.group())
        last = m.end()
    if last < len(text):
        out.append(text[last:])
    return out


class GgufBpe:
    def __init__(self, path: Path):
        r = GGUFReader(str(path))

        def strings(key):
            f = r.fields[key]
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

        self.tokens = strings("tokenizer.ggml.tokens")
        f = r.fields["tokenizer.ggml.token_type"]
        types = [int(f.parts[i][0]) for i in f.data]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ", 1)): i for i, m in enumerate(strings("tokenizer.ggml.merges"))}
        self.specials = sorted((t for t, ty in zip(self.tokens, types) if ty in (CONTROL, USER_DEFINED)),
                               key=len, reverse=True)
        self.byte_map = _bytes_to_unicode()

    @lru_cache(maxsize=None)
    def _bpe(self, word: str) -> tuple[str, ...]:
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return tuple(parts)

    def encode(self, text: str) -> list[int]:
        special = regex.compile("|".join(regex.escape(s) for s in self.specials))
        ids: list[int] = []
        for chunk in _split(text, special.pattern):
            if chunk in self.ids and chunk in self.specials:
                ids.append(self.ids[chunk])
                continue
            pieces = [chunk]
            for pattern in SMOLLM_REGEXES:
                pieces = [p for piece in pieces for p in _split(piece, pattern)]
            for piece in pieces:
                mapped = "".join(self.byte_map[b] for b in piece.encode("utf-8"))
                ids.extend(self.ids[t] for t in self._bpe(mapped))
        return ids
