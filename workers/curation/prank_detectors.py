"""The prank detectors other than jailbreak / prompt injection (see `prank_jailbreak`).

Each is a small pure function `(PrankInput, PrankConfig) -> Signal | None`; scores follow one
scale: >= 0.8 is "clearly a prank" (rejects by default), 0.5-0.8 "a person should look",
below 0.5 informational only. Every regex is anchored on a literal or is a single pass over
the text, so a hostile 100 kB input stays linear.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

from workers.curation.gibberish import gibberish_score
from workers.curation.prank_base import PrankConfig, PrankInput, alnum_count
from workers.curation.types import Signal

# --- empty / too short -------------------------------------------------------------------


def detect_empty(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    if not x.user_text:
        what = "assistant turns only" if x.assistant_chars else "empty conversation"
        return Signal("empty", 1.0, f"no user text ({what})")
    text = x.user_text
    # Counting a prefix is enough to know a long text is not short.
    n = alnum_count(text[: 8 * cfg.min_chars + 8])
    if n < cfg.min_chars and len(text) > 8 * cfg.min_chars + 8:
        n = alnum_count(text)
    replied = x.assistant_chars >= 20
    if n == 0:
        return Signal(
            "empty",
            0.6 if replied else 0.85,
            "user turns hold no letters or digits (only symbols/emoji)",
        )
    if n < cfg.min_chars:
        # "Why?" alone tells an annotator nothing; with an answer it may still be a real
        # exchange, so it is only noted.
        score = 0.3 if replied else 0.55
        return Signal("empty", score, f"user text too short ({n} < {cfg.min_chars} chars)")
    return None


# --- test strings ---------------------------------------------------------------------------

_TEST_STRONG = frozenset(
    [
        "test",
        "tests",
        "testing",
        "tst",
        "asdf",
        "asdfg",
        "asdfgh",
        "asdfghjkl",
        "asd",
        "qwer",
        "qwert",
        "qwerty",
        "qwertz",
        "qwertyuiop",
        "yxcv",
        "zxcv",
        "zxcvbnm",
        "foo",
        "bar",
        "baz",
        "qux",
        "foobar",
        "lorem",
        "ipsum",
        "dummy",
        "blah",
        "bla",
        "blabla",
        "xxx",
        "xyz",
        "abc",
        "abcd",
        "abcde",
        "abcdef",
        "abc123",
        "aaa",
        "bbb",
        "123",
        "1234",
        "12345",
        "123456",
        "test123",
        "testtest",
        "jkl",
        "hjkl",
        "sdf",
        "ping",
    ]
)
_TEST_FILLER = frozenset(
    [
        "this",
        "is",
        "a",
        "an",
        "just",
        "only",
        "another",
        "my",
        "one",
        "two",
        "three",
        "1",
        "2",
        "3",
        "4",
        "5",
        "message",
        "msg",
        "again",
        "post",
        "hello",
        "hi",
        "hey",
        "hallo",
        "world",
        "welt",
        "dies",
        "ist",
        "ein",
        "nur",
        "nachricht",
        "please",
        "ignore",
        "it",
    ]
)
_TEST_PHRASES = re.compile(
    r"^(?:hello,? world|hallo,? welt|the quick brown fox jumps over the lazy dog"
    r"|sphinx of black quartz,? judge my vow)\W*$"
)
_LOREM = frozenset(
    [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "consectetuer",
        "adipiscing",
        "adipisicing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
        "incididunt",
        "ut",
        "labore",
        "et",
        "dolore",
        "magna",
        "aliqua",
        "enim",
        "ad",
        "minim",
        "veniam",
        "quis",
        "nostrud",
        "exercitation",
        "ullamco",
        "laboris",
        "nisi",
        "aliquip",
        "ex",
        "ea",
        "commodo",
        "consequat",
        "duis",
        "aute",
        "irure",
        "in",
        "reprehenderit",
        "voluptate",
        "velit",
        "esse",
        "cillum",
        "eu",
        "fugiat",
        "nulla",
        "pariatur",
        "excepteur",
        "sint",
        "occaecat",
        "cupidatat",
        "non",
        "proident",
        "sunt",
        "culpa",
        "qui",
        "officia",
        "deserunt",
        "mollit",
        "anim",
        "id",
        "est",
        "laborum",
    ]
)


def detect_test_string(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    words = x.words
    if not words:
        return None
    if len(words) <= 12 and _TEST_PHRASES.match(x.folded):
        return Signal("test_string", 0.9, "a stock test phrase (hello world / pangram)")
    if len(words) <= 12 and all(w in _TEST_STRONG or w in _TEST_FILLER for w in words):
        strong = [w for w in words if w in _TEST_STRONG]
        if strong:
            return Signal("test_string", 0.95, f"only test words ({', '.join(strong[:3])})")
    if "lorem ipsum" in x.folded:
        share = sum(w in _LOREM for w in words) / len(words)
        if share >= 0.5:
            return Signal("test_string", 0.9, f"lorem ipsum filler ({share:.0%} of words)")
    return None


# --- gibberish ------------------------------------------------------------------------------


def detect_gibberish(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    """Statistics, not word lists: see `workers.curation.gibberish`."""
    score, reason = gibberish_score(x.user_text)
    if score >= 0.8:
        return Signal("gibberish", 0.9, reason)
    if score >= 0.5:
        return Signal("gibberish", 0.55, reason)
    return None


# --- repetition ------------------------------------------------------------------------------

_CHAR_RUN = re.compile(r"(\w)\1{5,}")  # one letter/digit 6+ times
_RUN3 = re.compile(r"(.)\1{2,}", re.DOTALL)


def detect_repetition(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    text = x.folded
    ratio = 1.0
    if len(text) >= 400:
        ratio = len(zlib.compress(text.encode(), 1)) / len(text.encode())
        if ratio >= 0.3:  # ordinary prose or code compresses to ~0.4-0.6 at level 1
            return None
    n = alnum_count(text)
    if n == 0:
        return None
    run_chars = sum(len(m.group()) for m in _CHAR_RUN.finditer(text))
    if run_chars:
        if alnum_count(_RUN3.sub(r"\1", text)) < cfg.min_chars:
            return Signal("repetition", 0.9, "one character repeated over and over")
        if run_chars / n >= 0.5:
            return Signal("repetition", 0.85, f"{run_chars / n:.0%} of text is repeated chars")
    words = x.words
    if len(words) >= 3:
        top, count = Counter(words).most_common(1)[0]
        distinct = len(set(words))
        if distinct == 1 or (len(words) >= 8 and count / len(words) >= 0.5):
            return Signal("repetition", 0.9, f"the word {top!r} repeated {count} times")
    lines = [ln.strip().lower() for ln in x.user_text.splitlines() if ln.strip()]
    if len(lines) >= 4:
        _line, count = Counter(lines).most_common(1)[0]
        if count >= 3 and count / len(lines) >= 0.5:
            return Signal("repetition", 0.85, f"one line repeated {count} times")
    if len(text) >= 400:
        if ratio < 0.08:
            return Signal(
                "repetition", 0.85, f"text is highly repetitive (compresses to {ratio:.0%})"
            )
        if ratio < 0.15:
            return Signal("repetition", 0.55, f"text is repetitive (compresses to {ratio:.0%})")
    return None


# --- profanity and abuse -----------------------------------------------------------------

_INSULT = (
    r"(?:idiot|imbecile|moron|stupid|dumb|dumbass|retard(?:ed)?|loser|bitch|asshole|arsehole"
    r"|bastard|cunt|dickhead|dick|prick|twat|wanker|scum|trash|garbage|useless|worthless"
    r"|pathetic|piece of (?:shit|crap|garbage|junk)|shit|crap|fool|clown|jerk|freak|pig"
    r"|whore|slut|cocksucker|motherfucker|fucker|fuckface|fucking (?:idiot|moron|useless|dumb"
    r"|stupid|bitch|retard)|waste of (?:space|time)|depp|vollidiot|arschloch|hurensohn|wichser"
    r"|missgeburt|spast|fotze|schlampe|dumm|bloed|blöd|dummkopf|trottel|penner)"
)
_SLUR = (
    r"(?:nigg(?:er|a|ah|az)s?|faggots?|fags?|trann(?:y|ies)|kikes?|spics?|chinks?|wetbacks?"
    r"|ragheads?|sandniggers?|gooks?|coons?|dykes?|retards?|kanaken?|neger)"
)
_ADDRESSEE = (
    r"(?:you|u|ya|youre|you're|ur|you are|you r|u r|yo|du|du bist|ihr|ihr seid"
    r"|this (?:bot|ai|thing|app|assistant|chatbot|model))"
)
_MODS = r"(?:(?:such|so|a|an|the|fucking|fuckin|freaking|really|total|complete|absolute|stupid"
_MODS += r"|dumb|little|big|biggest|most|ein|eine|voll|echt|verdammter?) ){0,3}"
_ABUSE_PATTERNS = (
    (
        re.compile(rf"\b{_ADDRESSEE} (?:are |r |is |bist |seid |sind )?{_MODS}{_INSULT}\b"),
        0.85,
        "insult aimed at the assistant or a person",
    ),
    (
        re.compile(
            rf"\b{_INSULT} (?:bot|ai|chatbot|assistant|machine|program|computer|gpt|chatgpt"
            rf"|maschine)\b"
        ),
        0.85,
        "insult aimed at the assistant",
    ),
    (
        re.compile(
            r"\b(?:fuck (?:you|u|off|ya|yourself)|f off|stfu|shut (?:the fuck )?up|kys"
            r"|go (?:kill|fuck|hang) yourself|(?:go )?die in a fire|i hope you die"
            r"|eat shit|suck my (?:dick|cock|balls)|go to hell|screw you|piss off"
            r"|fick dich|leck mich|halt die fresse|halts maul|verpiss dich)\b"
        ),
        0.9,
        "abusive phrase aimed at someone",
    ),
    (re.compile(rf"\b{_ADDRESSEE} {_MODS}{_SLUR}\b|\b{_SLUR}\b"), 0.7, "slur"),
)
_PROFANE = re.compile(
    r"\b(?:fuck\w*|shit\w*|bullshit|cunt|asshole|bitch\w*|dick|cock|pussy|bastard|motherfucker"
    r"|scheisse|scheiße|ficken|fotze)\b"
)


# Prefilter: the regexes above only run when one of these words (or stems) occurs.
_ABUSE_WORDS = frozenset(
    [
        "idiot",
        "idiots",
        "imbecile",
        "moron",
        "morons",
        "stupid",
        "dumb",
        "dumbass",
        "loser",
        "losers",
        "bitch",
        "bitches",
        "asshole",
        "arsehole",
        "bastard",
        "cunt",
        "dick",
        "dickhead",
        "prick",
        "twat",
        "wanker",
        "scum",
        "trash",
        "garbage",
        "useless",
        "worthless",
        "pathetic",
        "shit",
        "crap",
        "fool",
        "clown",
        "jerk",
        "freak",
        "pig",
        "whore",
        "slut",
        "cocksucker",
        "motherfucker",
        "fucker",
        "fuckface",
        "fucking",
        "fuck",
        "fuckin",
        "waste",
        "depp",
        "vollidiot",
        "arschloch",
        "hurensohn",
        "wichser",
        "missgeburt",
        "spast",
        "fotze",
        "schlampe",
        "dumm",
        "bloed",
        "blöd",
        "dummkopf",
        "trottel",
        "penner",
        "stfu",
        "kys",
        "shut",
        "die",
        "eat",
        "suck",
        "go",
        "screw",
        "piss",
        "fick",
        "leck",
        "halt",
        "halts",
        "verpiss",
        "f",
        "retard",
        "retarded",
        "retards",
        "faggot",
        "faggots",
        "fag",
        "fags",
        "tranny",
        "trannies",
        "kike",
        "kikes",
        "spic",
        "spics",
        "chink",
        "chinks",
        "wetback",
        "wetbacks",
        "raghead",
        "ragheads",
        "gook",
        "gooks",
        "coon",
        "coons",
        "dyke",
        "dykes",
        "kanake",
        "kanaken",
        "neger",
        "cock",
        "pussy",
        "scheisse",
        "scheiße",
        "ficken",
    ]
)
_ABUSE_STEMS = ("fuck", "shit", "nigg", "bitch", "asshole")


def detect_abuse(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    text = x.folded
    if _ABUSE_WORDS.isdisjoint(x.wordset) and not any(s in text for s in _ABUSE_STEMS):
        return None
    best: Signal | None = None
    for pattern, score, why in _ABUSE_PATTERNS:
        m = pattern.search(text)
        if m and (best is None or score > best.score):
            best = Signal("abuse", score, f"{why}: {m.group()[:40]!r}")
    if best is not None and best.score >= cfg.reject_at:
        return best
    swears = len(_PROFANE.findall(text))
    if swears >= 3 and swears / max(len(x.words), 1) >= 0.05:
        density = Signal("abuse", 0.55, f"heavy profanity ({swears} swear words)")
        if best is None or density.score > best.score:
            best = density
    return best


# --- sharing rate ----------------------------------------------------------------------------


def detect_share_burst(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    recent = x.context.user_shares_last_hour
    usual = max(x.context.user_usual_per_hour, cfg.burst_usual_floor)
    limit = max(cfg.burst_factor * usual, float(cfg.burst_min))
    if recent < limit:
        return None
    # 0.5 at the limit, rising to burst_max_score at 4x the limit.
    over = min((recent / limit - 1.0) / 3.0, 1.0)
    score = 0.5 + (cfg.burst_max_score - 0.5) * over
    return Signal(
        "share_burst",
        round(max(score, 0.5), 3),
        f"{recent} shares in the last hour vs usually {x.context.user_usual_per_hour:g}",
    )
