"""From tokens to colour mentions, coordinated groups and the cues around them.

One left-to-right pass finds idioms, negation cues and colour mentions (``[modifiers] name [head]`` or a
literal), each by longest match over token n-grams; groups join mentions written as a list ("cobalt and
white", "red, orange or yellow"); cues are read from a few tokens on either side of a group. Every step
looks at a bounded window per token, so the whole is linear in the number of tokens.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

from service.understanding import vocab
from service.understanding.lexicon import Lexicon, NameMatch, ToneModel, match_phrase
from service.understanding.tokens import Token

MAX_TONES = 2  # modifiers applied per name (the ones nearest the name)
Cue = Literal["ground", "motif", "accent", "object", "colour_word", "in", "ground_prep", "with", ""]
_AND_GAPS = {("and",), ("or",), ("nor",), ("/",), ("plus",), (",", "and"), (",", "or"), ("and", "/", "or")}
_RIGHT_STOPS = vocab.COORDINATORS | frozenset({"with", "in", "of", "for", "to", "by", "at", "from", "as", "but"})
_FREE_RIGHT = vocab.DETERMINERS | frozenset({"as"})
_FREE_LEFT = vocab.DETERMINERS | vocab.INTENSIFIERS


@dataclass
class Mention:
    start: int  # first token (modifiers included)
    end: int  # one past the last token
    name: NameMatch | None = None
    literal: Token | None = None
    tones: list[ToneModel] = field(default_factory=list)
    hue_word: str = ""  # "greenish" in "greenish cobalt"
    head: str = ""  # "red" in "wine red" when "wine red" has no entry
    dropped_tones: int = 0
    weak: bool = False  # a one-character Chinese/Japanese colour (红): needs a noun or cue (see roles)
    marked: bool = False  # written as a colour (金色, goldfarben): colour context by itself
    colour_word: bool = False  # a colour word in its language (doré) whatever the English name's class


@dataclass
class Group:
    mentions: list[Mention]
    clause: int
    left: Cue = ""
    right: Cue = ""
    negation: str = ""  # the cue's text when the group is negated

    @property
    def start(self) -> int:
        return self.mentions[0].start

    @property
    def end(self) -> int:
        return self.mentions[-1].end


@dataclass
class Reading:
    """What one pass over a field found."""

    mentions: list[Mention] = field(default_factory=list)
    idioms: list[tuple[int, int]] = field(default_factory=list)
    negations: dict[int, tuple[int, int]] = field(default_factory=dict)  # end token -> span
    post_negations: dict[int, tuple[int, int]] = field(default_factory=dict)  # start token -> span ("赤なし")
    overflow: int = 0  # mentions beyond the cap, not kept


def noun_kind(word: str) -> Cue:
    """Role of a noun (plural or not): ground, motif, accent, object, or ''."""
    for w in (word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es") else word):
        if w in vocab.GROUND_NOUNS:
            return "ground"
        if w in vocab.MOTIF_NOUNS:
            return "motif"
        if w in vocab.ACCENT_NOUNS:
            return "accent"
        if w in vocab.OBJECT_NOUNS:
            return "object"
    return ""


class _Finder:
    def __init__(self, tokens: Sequence[Token], lex: Lexicon, cap: int) -> None:
        self.toks, self.lex, self.cap = tokens, lex, cap
        self.keys = [t.key if t.kind == "word" else t.text for t in tokens]
        self.out = Reading()

    def _name_at(self, j: int) -> NameMatch | None:
        """The name at ``j``; a single word that is a role or object noun ("chinos", "dots") is none."""
        if j >= len(self.toks) or self.toks[j].kind != "word":
            return None
        name = self.lex.match_name(self.keys, j)
        if name is not None and name.length == 1 and noun_kind(self.keys[j]):
            return None
        if name is not None and name.entry.origin == "color-name-list" and self.toks[j].item:
            own = j + 1  # a list name made of several foreign words ("黑白": black, white) is two colours
            while own < len(self.toks) and self.toks[own].item == self.toks[j].item:
                own += 1
            if j + name.length > own:
                name = self.lex.match_name(self.keys[j:own], 0)
        return name

    def _role_noun_at(self, j: int) -> bool:
        return j < len(self.toks) and noun_kind(self.keys[j]) in ("ground", "motif", "accent")

    def _modifiers(self, i: int) -> tuple[int, list[ToneModel], NameMatch | None]:
        """Tone modifiers and intensifiers from ``i`` up to a name: (name start, tones, name or None)."""
        j, tones = i, list[ToneModel]()
        while j < len(self.toks) and self.toks[j].kind == "word":
            if self.keys[j] in vocab.INTENSIFIERS and self.lex.match_tone(self.keys, j) is None:
                j += 1
                continue
            tone = self.lex.match_tone(self.keys, j)
            if tone is None:
                break
            tones.append(tone[1])
            j += tone[0]
            name = self._name_at(j)
            if name is not None:
                return j, tones, name
        return j, tones, None

    def _extend(self, m: Mention, j: int) -> Mention:
        """Hue word ("greenish X") and compound head ("wine red") around the name at ``j``."""
        assert m.name is not None
        if m.name.length == 1 and self.keys[j] in self.lex.hue_words:
            nxt = self._name_at(j + 1)
            if nxt is not None:
                m.hue_word, m.name, m.end = self.keys[j], nxt, j + 1 + nxt.length
        k = m.end
        if (m.name.entry.klass in ("ambiguous", "noun") and k < len(self.toks) and self.keys[k] in vocab.BASIC
                and self.toks[k].kind == "word"):
            head = self.lex.match_name(self.keys, k)
            if head is not None and head.length == 1:
                m.head, m.end = self.keys[k], k + 1
        return m

    def _add(self, m: Mention) -> None:
        if len(self.out.mentions) < self.cap:
            self.out.mentions.append(m)
        else:
            self.out.overflow += 1

    def _word(self, i: int) -> int:
        """Read what starts at word ``i``; returns the next index."""
        if self.toks[i].idiom:
            self.out.idioms.append((i, i + 1))
            return i + 1
        if self.keys[i] == vocab.POST_NEGATION:
            self.out.post_negations[i] = (i, i + 1)
            return i + 1
        name = self._name_at(i)
        idiom = match_phrase(vocab.IDIOMS, self.keys, i)
        if idiom and name is not None and name.length == idiom and self._role_noun_at(i + idiom):
            idiom = 0  # a colour name used as one: "red wine background"
        if idiom and (name is None or idiom >= name.length):
            self.out.idioms.append((i, i + idiom))
            return i + idiom
        neg = match_phrase(vocab.NEGATIONS, self.keys, i, 3)
        if neg and name is None:
            self.out.negations[i + neg] = (i, i + neg)
            return i + neg
        j, tones = i, list[ToneModel]()
        if name is None:
            j, tones, name = self._modifiers(i)
            if name is None:
                return i + 1
        m = Mention(i, j + name.length, name=name, tones=tones[-MAX_TONES:],
                    dropped_tones=max(0, len(tones) - MAX_TONES))
        self._add(self._flags(self._extend(m, j), j))
        return m.end

    def _flags(self, m: Mention, j: int) -> Mention:
        """What a localised name's tokens say about it (all False for English words)."""
        toks = self.toks[j:m.end]
        m.weak = all(t.weak for t in toks)
        m.marked = any(t.marked for t in self.toks[m.start:m.end])
        m.colour_word = all(t.colour for t in toks)
        return m

    def run(self) -> Reading:
        i = 0
        while i < len(self.toks):
            tok = self.toks[i]
            if tok.kind == "colour":
                self._add(Mention(i, i + 1, literal=tok))
                i += 1
            elif tok.kind == "word":
                i = self._word(i)
            else:
                i += 1
        return self.out


def find_mentions(tokens: Sequence[Token], lex: Lexicon, cap: int) -> Reading:
    """Idioms, negation cues and up to ``cap`` colour mentions, left to right."""
    return _Finder(tokens, lex, cap).run()


def _links(keys: Sequence[str], mentions: Sequence[Mention]) -> list[str]:
    """How each mention joins the next: 'juxt', 'and', 'comma' or 'break'."""
    links = []
    for a, b in zip(mentions, mentions[1:]):
        gap = tuple(keys[a.end:b.start])
        links.append("juxt" if not gap else "and" if gap in _AND_GAPS else "comma" if gap == (",",) else "break")
    return links


def group_mentions(tokens: Sequence[Token], mentions: Sequence[Mention]) -> list[Group]:
    """Lists of colours: joined by nothing, "and"/"or"/"/", or by commas when an "and"/"or" ends the list."""
    keys = [t.key for t in tokens]
    clause_of, clause = [], 0
    for t in tokens:
        clause += t.kind == "punct" and t.text in vocab.CLAUSE_BREAKS
        clause_of.append(clause)
    links = _links(keys, mentions)
    groups: list[Group] = []
    for idx, m in enumerate(mentions):
        link = links[idx - 1] if idx else "break"
        if link == "comma":  # a comma joins only a list that goes on to "and"/"or"
            rest = links[idx:]
            ends = next((x for x in rest if x in ("and", "break")), "break")
            link = "and" if ends == "and" else "break"
        if link == "break" or not groups:
            groups.append(Group([m], clause_of[m.start]))
        else:
            groups[-1].mentions.append(m)
    return groups


def _phrase_ending(table: frozenset[tuple[str, ...]], keys: Sequence[str], j: int) -> int:
    for n in (3, 2, 1):
        if j - n + 1 >= 0 and tuple(keys[j - n + 1:j + 1]) in table:
            return n
    return 0


def left_cue(keys: Sequence[str], start: int, post: bool = False) -> Cue:
    """What precedes a group: 'on black' (ground_prep -> ground), 'background in', 'stars in', 'with',
    'in' or 'colour:'. ``post``: the language puts adjectives after their noun ("pois dorés", "فستان أحمر"),
    so a role or object noun just before the group is its head."""
    j = start - 1
    soft = False  # a colour noun ("لون", "couleur") between: colour context unless a role cue is found
    while j >= 0 and (keys[j] in _FREE_LEFT or keys[j] == vocab.COLOUR_NOUN):
        soft = soft or keys[j] == vocab.COLOUR_NOUN
        j -= 1
    if j < 0:
        return "colour_word" if soft else ""
    if _phrase_ending(vocab.GROUND_PREPOSITIONS, keys, j):
        return "ground"
    for k in range(j, max(-1, j - 5), -1):  # "background should be", "background colour:"
        if noun_kind(keys[k]) == "ground":
            return "ground"
        if keys[k] not in vocab.GROUND_LINKS:
            break
    if keys[j] in vocab.MOTIF_LINKS:
        for k in (j - 1, j - 2):
            if k >= 0 and noun_kind(keys[k]) in ("motif", "accent"):
                return noun_kind(keys[k])
    if keys[j] in ("with", vocab.UNDER):
        return "with"
    if post:
        kind = _head_before(keys, j)
        if kind:
            return kind
    for k in range(j, max(-1, j - 3), -1):
        if keys[k] in vocab.CONTEXT_LEFT:
            return "in" if keys[k] == "in" else "colour_word"
        if keys[k] not in vocab.CONTEXT_SKIP:
            break
    return "colour_word" if soft else ""


def _head_before(keys: Sequence[str], j: int) -> Cue:
    """A motif, accent or object noun at ``j`` or just before it past materials ("Veste en jean bleue")."""
    for k in range(j, max(-1, j - 4), -1):
        kind = noun_kind(keys[k])
        if kind in ("motif", "accent", "object"):
            return kind
        if keys[k] not in vocab.FILLERS and keys[k] not in _FREE_LEFT and keys[k] not in ("in", "of"):
            return ""
    return ""


def right_cue(tokens: Sequence[Token], keys: Sequence[str], end: int, style: bool) -> Cue:
    """What follows a group: a role or object noun (a few words on), 'coloured', or 'on' (ground_prep)."""
    skipped = strangers = 0
    for j in range(end, min(len(tokens), end + 6)):
        w = keys[j]
        if tokens[j].kind != "word":
            return ""
        if w in vocab.CONTEXT_RIGHT:
            return "colour_word"
        if w == vocab.UNDER:
            return "ground" if skipped == 0 else ""
        kind = noun_kind(w)
        if kind and not style and not _heads_phrase(tokens, keys, j):
            return ""
        if kind:
            return kind
        if match_phrase(vocab.GROUND_PREPOSITIONS, keys, j, 3):
            return "ground_prep" if skipped == 0 else ""
        if w in _FREE_RIGHT:
            continue
        if w in _RIGHT_STOPS or match_phrase(vocab.NEGATIONS, keys, j, 3):
            return ""
        strangers += w not in vocab.FILLERS
        skipped += 1
        if skipped > 2 or (not style and strangers > 1):
            return ""
    return ""


def _heads_phrase(tokens: Sequence[Token], keys: Sequence[str], j: int) -> bool:
    """Whether the noun at ``j`` ends its noun phrase (what follows is punctuation, a number, a link word
    or another noun), as in "red dress for women" but not "Blue Apron meal kit"."""
    if j + 1 >= len(tokens) or tokens[j + 1].kind != "word":
        return True
    nxt = keys[j + 1]
    return nxt.isdigit() or nxt in vocab.AFTER_HEAD or nxt in vocab.FILLERS or noun_kind(nxt) != ""


def hyphen_idiom(tokens: Sequence[Token], keys: Sequence[str], m: Mention) -> str:
    """The hyphenated word a mention is part of ("red-letter"), or '' when it stands as a colour."""
    k = m.end
    if k >= len(tokens) or not tokens[k].joined or tokens[k].kind != "word":
        return ""
    w = keys[k]
    if w in vocab.HYPHEN_OK or w in vocab.CONTEXT_RIGHT or noun_kind(w):
        return ""
    return " ".join(keys[m.start:k + 1])


def negation_of(reading: Reading, keys: Sequence[str], tokens: Sequence[Token], start: int, end: int = -1) -> str:
    """The negation cue's text when one governs the group from ``start`` to ``end``: "no", "anything but"
    before it, or one written after it ("赤なし", "빨간색 없이")."""
    j = end
    for _ in range(3):
        if j in reading.post_negations:
            a, b = reading.post_negations[j]
            return " ".join(t.text for t in tokens[a:b])
        if j < 0 or j >= len(keys) or keys[j] not in vocab.POST_NEGATION_SKIP:
            break
        j += 1
    j = start
    for _ in range(3):
        if j in reading.negations:
            a, b = reading.negations[j]
            return " ".join(t.text for t in tokens[a:b])
        if j - 1 < 0 or keys[j - 1] not in (vocab.NEGATION_SKIP | vocab.DETERMINERS):
            return ""
        j -= 1
    return ""


def annotate(tokens: Sequence[Token], reading: Reading, style: bool, post: bool = False) -> list[Group]:
    """Groups with their left/right cues and negations. ``post``: adjectives follow their noun in this
    field's language, so a noun after a group heads the next phrase, not this one ("fond noir, pois dorés")."""
    keys = [t.key if t.kind == "word" else t.text for t in tokens]
    groups = group_mentions(tokens, reading.mentions)
    for g in groups:
        g.left = left_cue(keys, g.start, post)
        g.right = right_cue(tokens, keys, g.end, style)
        if post and g.right not in ("colour_word", "ground_prep"):
            g.right = ""
        g.negation = negation_of(reading, keys, tokens, g.start, g.end)
    return groups
