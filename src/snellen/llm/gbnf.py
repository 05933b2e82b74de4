"""GBNF grammars in Python: parse the text, recognise strings, complete a cut-off reply, and
draw random strings.

GBNF is the grammar notation llama.cpp reads (``name ::= alternatives``, quoted literals,
character classes, ``( )`` groups, ``* + ?`` and ``{m,n}`` repetition, ``#`` comments);
xgrammar reads the same notation. The constrained engines enforce a grammar token by token;
this module gives snellen the same grammar as an object it can reason about:

* :meth:`Gbnf.accepts` and :meth:`Gbnf.viable_prefix` (an Earley recogniser over characters);
* :meth:`Gbnf.complete`, the shortest continuation that makes a prefix a whole sentence: a
  constrained reply cut off by the token limit is a prefix of the language, and completing it
  keeps the promise that a constrained reply always parses;
* :meth:`Gbnf.sample`, random sentences, so a test can check that every string the grammar
  accepts renders.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


class GbnfError(ValueError):
    """The grammar text is not valid GBNF (the message says where)."""


@dataclass(frozen=True)
class CharSet:
    """One character out of ``ranges`` (inclusive code-point pairs), or out of their
    complement when ``negated``."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False

    def matches(self, ch: str) -> bool:
        o = ord(ch)
        inside = any(lo <= o <= hi for lo, hi in self.ranges)
        return inside != self.negated

    def choices(self) -> list[str]:
        """The characters a sampler picks from (printable ASCII for a negated class)."""
        if self.negated:
            return [chr(o) for o in range(32, 127) if self.matches(chr(o))]
        return [chr(o) for lo, hi in self.ranges for o in range(lo, hi + 1)]

    def shortest(self) -> str:
        for ch in ("a", "0", " ", *self.choices()[:1]):
            if self.matches(ch):
                return ch
        raise GbnfError(f"the character class {self} matches nothing printable")


Symbol = int | CharSet  # a nonterminal's index, or one character
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "[": "[", "]": "]", "-": "-"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class _Parser:
    """GBNF text -> plain BNF: each rule a list of alternatives, each a tuple of symbols;
    groups and repetitions become fresh helper rules."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.names: dict[str, int] = {}
        self.rules: list[list[tuple[Symbol, ...]]] = []
        self.labels: list[str] = []
        self.defined: set[int] = set()

    def error(self, what: str) -> GbnfError:
        line = self.text.count("\n", 0, self.pos) + 1
        return GbnfError(f"GBNF line {line}: {what}")

    def ref(self, name: str) -> int:
        if name not in self.names:
            self.names[name] = len(self.rules)
            self.rules.append([])
            self.labels.append(name)
        return self.names[name]

    def fresh(self, alts: list[tuple[Symbol, ...]], label: str) -> int:
        self.rules.append(alts)
        self.labels.append(label)
        self.defined.add(len(self.rules) - 1)
        return len(self.rules) - 1

    def skip(self, newlines: bool = True) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            else:
                break

    def at_rule_start(self) -> bool:
        m = _NAME.match(self.text, self.pos)
        if not m:
            return False
        rest = self.text[m.end() :].lstrip(" \t")
        return rest.startswith("::=")

    def parse(self) -> None:
        self.skip()
        while self.pos < len(self.text):
            m = _NAME.match(self.text, self.pos)
            if not m:
                raise self.error(f"expected a rule name at {self.text[self.pos : self.pos + 20]!r}")
            self.pos = m.end()
            self.skip(newlines=False)
            if not self.text.startswith("::=", self.pos):
                raise self.error(f"expected '::=' after {m.group(0)!r}")
            self.pos += 3
            index = self.ref(m.group(0))
            if index in self.defined:
                raise self.error(f"rule {m.group(0)!r} is defined twice")
            self.defined.add(index)
            self.rules[index] = self.alternatives(top=True)
            self.skip()
        missing = [self.labels[i] for i in range(len(self.rules)) if i not in self.defined]
        if missing:
            raise GbnfError(f"GBNF: rules used but never defined: {', '.join(missing)}")
        if "root" not in self.names:
            raise GbnfError("GBNF: the grammar has no 'root' rule")

    def alternatives(self, top: bool) -> list[tuple[Symbol, ...]]:
        alts = [self.sequence(top)]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            alts.append(self.sequence(top))
        return alts

    def sequence(self, top: bool) -> tuple[Symbol, ...]:
        seq: list[Symbol] = []
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text) or (top and self.at_rule_start()):
                break
            c = self.text[self.pos]
            if c in "|)":
                break
            atom = self.atom()
            seq.extend(self.repeat(atom))
        return tuple(seq)

    def atom(self) -> list[Symbol]:
        c = self.text[self.pos]
        if c == '"':
            return [CharSet(((ord(ch), ord(ch)),)) for ch in self.literal()]
        if c == "[":
            return [self.char_class()]
        if c == ".":
            self.pos += 1
            return [CharSet((), negated=True)]
        if c == "(":
            self.pos += 1
            alts = self.alternatives(top=False)
            self.skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise self.error("unclosed '('")
            self.pos += 1
            return [self.fresh(alts, "group")]
        m = _NAME.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return [self.ref(m.group(0))]
        raise self.error(f"unexpected {c!r}")

    def char(self, quote: str) -> str:
        c = self.text[self.pos]
        if c == "\\":
            e = self.text[self.pos + 1 : self.pos + 2]
            if e == "x":
                self.pos += 4
                return chr(int(self.text[self.pos - 2 : self.pos], 16))
            if e == "u":
                self.pos += 6
                return chr(int(self.text[self.pos - 4 : self.pos], 16))
            if e not in _ESCAPES:
                raise self.error(f"unknown escape \\{e}")
            self.pos += 2
            return _ESCAPES[e]
        if c == "\n":
            raise self.error(f"unterminated {quote}")
        self.pos += 1
        return c

    def literal(self) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text) and self.text[self.pos] != '"':
            out.append(self.char("string"))
        if self.pos >= len(self.text):
            raise self.error("unterminated string")
        self.pos += 1
        return "".join(out)

    def char_class(self) -> CharSet:
        self.pos += 1
        negated = self.text.startswith("^", self.pos)
        self.pos += negated
        ranges: list[tuple[int, int]] = []
        while self.pos < len(self.text) and self.text[self.pos] != "]":
            lo = self.char("class")
            hi = lo
            if self.text[self.pos] == "-" and self.text[self.pos + 1] != "]":
                self.pos += 1
                hi = self.char("class")
            ranges.append((ord(lo), ord(hi)))
        if self.pos >= len(self.text):
            raise self.error("unterminated character class")
        self.pos += 1
        return CharSet(tuple(ranges), negated)

    def repeat(self, atom: list[Symbol]) -> list[Symbol]:
        if self.pos >= len(self.text):
            return atom
        c = self.text[self.pos]
        item = tuple(atom)
        if c == "*":
            self.pos += 1
            return [self.star(item)]
        if c == "+":
            self.pos += 1
            return [*item, self.star(item)]
        if c == "?":
            self.pos += 1
            return [self.fresh([item, ()], "optional")]
        if c == "{":
            m = re.compile(r"\{\s*(\d+)\s*(,\s*(\d*)\s*)?\}").match(self.text, self.pos)
            if not m:
                raise self.error("bad {m,n} repetition")
            self.pos = m.end()
            lo = int(m.group(1))
            hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
            out: list[Symbol] = list(item * lo)
            if hi is None:
                return [*out, self.star(item)]
            if hi < lo:
                raise self.error(f"repetition {{{lo},{hi}}} has its maximum below its minimum")
            tail: tuple[Symbol, ...] = ()
            for _ in range(hi - lo):  # x{0,3} -> (x (x (x)?)?)?
                tail = (self.fresh([(*item, *tail), ()], "optional"),)
            return out + list(tail)
        return atom

    def star(self, item: tuple[Symbol, ...]) -> int:
        index = self.fresh([], "repeat")
        self.rules[index] = [(*item, index), ()]
        return index


Item = tuple[int, int, int, int]  # rule, alternative, dot, origin


class Gbnf:
    """A parsed GBNF grammar (``root`` is the start rule)."""

    def __init__(self, text: str) -> None:
        p = _Parser(text)
        p.parse()
        self.text = text
        self.rules = p.rules
        self.labels = p.labels
        self.names = p.names
        self.root = p.names["root"]
        self._shortest = self._shortest_strings()
        self.nullable = {i for i, s in enumerate(self._shortest) if s == ""}

    # -- shortest strings ------------------------------------------------------------------
    def _shortest_strings(self) -> list[str]:
        best: list[str | None] = [None] * len(self.rules)
        changed = True
        while changed:
            changed = False
            for i, alts in enumerate(self.rules):
                for alt in alts:
                    s = self._seq_shortest(alt, best)
                    if s is not None and (best[i] is None or len(s) < len(best[i] or "")):
                        best[i] = s
                        changed = True
        empty = [self.labels[i] for i, s in enumerate(best) if s is None]
        if empty:
            raise GbnfError(f"GBNF: rules that derive no finite string: {', '.join(empty)}")
        return [s or "" for s in best]

    @staticmethod
    def _seq_shortest(seq: tuple[Symbol, ...], best: list[str | None]) -> str | None:
        out = []
        for sym in seq:
            if isinstance(sym, CharSet):
                out.append(sym.shortest())
            else:
                s = best[sym]
                if s is None:
                    return None
                out.append(s)
        return "".join(out)

    def shortest(self, seq: tuple[Symbol, ...]) -> str:
        return "".join(s.shortest() if isinstance(s, CharSet) else self._shortest[s] for s in seq)

    # -- Earley recognition ----------------------------------------------------------------
    def _chart(self, text: str) -> tuple[list[list[Item]], list[dict[int, list[Item]]]]:
        """Earley sets for ``text``, stopping at the first character no item can take."""
        rules, nullable = self.rules, self.nullable
        sets: list[list[Item]] = []
        waiting: list[dict[int, list[Item]]] = []
        current: list[Item] = [(self.root, j, 0, 0) for j in range(len(rules[self.root]))]
        for k in range(len(text) + 1):
            seen = set(current)
            wait: dict[int, list[Item]] = {}
            items = current
            sets.append(items)
            waiting.append(wait)
            i = 0
            while i < len(items):
                rule, alt, dot, origin = items[i]
                i += 1
                rhs = rules[rule][alt]
                if dot < len(rhs):
                    sym = rhs[dot]
                    if isinstance(sym, CharSet):
                        continue
                    wait.setdefault(sym, []).append((rule, alt, dot, origin))
                    new = [(sym, j, 0, k) for j in range(len(rules[sym]))]
                    if sym in nullable:
                        new.append((rule, alt, dot + 1, origin))
                else:
                    new = [(r, a, d + 1, o) for r, a, d, o in waiting[origin].get(rule, ())]
                for it in new:
                    if it not in seen:
                        seen.add(it)
                        items.append(it)
            if k == len(text):
                break
            ch = text[k]
            nxt: list[Item] = []
            for rule, alt, dot, origin in items:
                rhs = rules[rule][alt]
                if dot < len(rhs):
                    sym = rhs[dot]
                    if isinstance(sym, CharSet) and sym.matches(ch):
                        nxt.append((rule, alt, dot + 1, origin))
            if not nxt:
                break
            current = list(dict.fromkeys(nxt))
        return sets, waiting

    def viable_prefix(self, text: str) -> int:
        """How many leading characters of ``text`` some sentence of the grammar starts with."""
        return len(self._chart(text)[0]) - 1

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a whole sentence of the grammar."""
        sets, _ = self._chart(text)
        if len(sets) != len(text) + 1:
            return False
        rules = self.rules
        return any(r == self.root and o == 0 and d == len(rules[r][a]) for r, a, d, o in sets[-1])

    def complete(self, text: str) -> str:
        """``text`` made a sentence: its longest viable prefix plus the shortest continuation
        (``text`` itself when it already is one)."""
        sets, waiting = self._chart(text)
        n = len(sets) - 1
        prefix = text[:n]
        rules = self.rules
        # done[(rule, origin)]: the shortest string that, once `rule` begun at `origin` is
        # complete, finishes the root; relaxed to a fixed point (chains at one origin cycle).
        inf = 1 << 60
        graph: dict[tuple[int, int], list[tuple[str, tuple[int, int]]]] = {}
        todo = [(r, o) for r, _a, _d, o in sets[n]]
        while todo:
            key = todo.pop()
            if key in graph:
                continue
            edges = []
            for r, a, d, o in waiting[key[1]].get(key[0], ()):
                edges.append((self.shortest(rules[r][a][d + 1 :]), (r, o)))
                todo.append((r, o))
            graph[key] = edges
        done = {k: (0, "") if k == (self.root, 0) else (inf, "") for k in graph}
        changed = True
        while changed:
            changed = False
            for key, edges in graph.items():
                for rest, parent in edges:
                    up = done[parent]
                    if up[0] < inf and len(rest) + up[0] < done[key][0]:
                        done[key] = (len(rest) + up[0], rest + up[1])
                        changed = True

        def done_cost(rule: int, origin: int) -> tuple[int, str] | None:
            c = done[(rule, origin)]
            return None if c[0] >= inf else c

        best: tuple[int, str] = (1 << 60, "")
        for r, a, d, o in sets[n]:
            rest = self.shortest(rules[r][a][d:])
            tail = done_cost(r, o)
            if tail is not None and len(rest) + tail[0] < best[0]:
                best = (len(rest) + tail[0], rest + tail[1])
        if best[0] >= 1 << 60:  # pragma: no cover - a viable prefix always completes
            raise GbnfError("no completion found")
        return prefix + best[1]

    # -- sampling ---------------------------------------------------------------------------
    def sample(self, rng: random.Random, *, budget: int = 400) -> str:
        """A random sentence. Alternatives are chosen uniformly while the string is shorter
        than ``budget`` characters; past it, every choice takes the shortest way out."""
        out: list[str] = []
        stack: list[Symbol] = [self.root]
        while stack:
            sym = stack.pop()
            if isinstance(sym, CharSet):
                out.append(rng.choice(sym.choices()))
                continue
            alts = self.rules[sym]
            if len(out) < budget:
                alt = rng.choice(alts)
            else:
                alt = min(alts, key=lambda a: len(self.shortest(a)))
            stack.extend(reversed(alt))
            if len(out) > 50 * budget:  # pragma: no cover - a runaway recursive grammar
                raise GbnfError("sampling did not terminate; the grammar recurses too freely")
        return "".join(out)


_CACHE: dict[str, Gbnf] = {}


def parse_gbnf(text: str) -> Gbnf:
    """The parsed grammar of ``text`` (kept, so each grammar is parsed once per process)."""
    if text not in _CACHE:
        _CACHE[text] = Gbnf(text)
    return _CACHE[text]
