"""A chat message as words the grammar (chat_intents.py) can match: one case, one width, one
kind of apostrophe, no punctuation, contractions spelled out. Founders type "whats" as often
as "what's" or with a curly apostrophe; all three read "what is".

Normalising works token by token (a token is what whitespace separates), so the router can
count how many words a politeness prefix took and cut the same tokens off the founder's own
text, which keeps its case, accents and emoji.
"""

from __future__ import annotations

import re
import unicodedata

# Longer messages are cut here (a change request's text has the same cap as a brief's field).
MAX_MESSAGE = 2000

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_WORD = re.compile(r"[\w']+")
_WHOLE = {
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "won't": "will not",
    "wont": "will not",
    "im": "i am",
    "ive": "i have",
    "youre": "you are",
    "let's": "let us",
    "lets": "let us",
    "gonna": "going to",
    "wanna": "want to",
}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'m", " am"))
# "dont", "isnt" ...: the apostrophe left out.
_NOT_BASES = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "have", "has", "had", "should", "could"}
    | {"would", "must", "need"}
)
# "what's", "whats": "is"; any other "'s" is a possessive and goes ("app's" -> "app").
_IS_BEFORE = frozenset({"what", "where", "how", "who", "when", "why", "that", "there", "here"})


def _expanded(word: str) -> str:
    """One word, its contraction spelled out."""
    word = word.strip("'")
    if word in _WHOLE:
        return _WHOLE[word]
    for suffix, full in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + full
    if word.endswith("nt") and word[:-2] in _NOT_BASES:
        return word[:-2] + " not"
    if word.endswith("'d") and len(word) > 2:
        return word[:-2] + " would"
    if word.endswith("'s"):
        base = word[:-2]
        return f"{base} is" if base in _IS_BEFORE or base == "it" else base
    if word.endswith("s") and word[:-1] in _IS_BEFORE:
        return word[:-1] + " is"
    return word.replace("'", "")


def words_of(token: str) -> list[str]:
    """The normalised words of one whitespace-separated token of a message."""
    text = unicodedata.normalize("NFKC", token).casefold().translate(_APOSTROPHES)
    return [w for word in _WORD.findall(text) for w in _expanded(word).split()]


def normalise(message: str) -> str:
    """Lower case, one space between words, no punctuation, contractions spelled out."""
    return " ".join(w for token in message[:MAX_MESSAGE].split() for w in words_of(token))


def tokens_after(message: str, words: int) -> str:
    """The founder's own text after its first `words` normalised words (tokens are kept whole:
    "I'd like" is three words in two tokens)."""
    tokens = message[:MAX_MESSAGE].split()
    seen = 0
    for index, token in enumerate(tokens):
        if seen >= words:
            return " ".join(tokens[index:])
        seen += len(words_of(token))
    return ""


_END_MARKS = " \t\n\r,;:.!?…"
_END_WORDS = ("please", "pls", "thanks", "thank you", "thx")


def without_end(text: str) -> str:
    """`text` without its end punctuation and a closing "please" or "thanks"."""
    while True:
        text = text.rstrip(_END_MARKS)
        lowered = text.casefold()
        word = next((w for w in _END_WORDS if lowered.endswith(" " + w)), None)
        if word is None:
            return text
        text = text[: -len(word)]
