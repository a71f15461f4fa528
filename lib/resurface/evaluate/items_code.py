"""Course code items (the HumanEval stand-in): parameterised small-function families, each item a
signature and docstring with one example, a reference solution, and hidden tests computed by it.
"""

from __future__ import annotations

import random

SEED = 4301


_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
          9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}


def _code_row(name: str, sig: str, doc: str, body: str, ref, example_args: tuple, test_args: list[tuple]) -> dict:
    """A HumanEval-style item: prompt (signature + docstring with one example), solution, hidden tests."""
    fmt = lambda args: ", ".join(repr(a) for a in args)  # noqa: E731
    example = f"    >>> {name}({fmt(example_args)})\n    {ref(*example_args)!r}\n"
    prompt = f"def {name}({sig}:\n    \"\"\"{doc}\n{example}    \"\"\""
    asserts = "".join(f"    assert candidate({fmt(a)}) == {ref(*a)!r}\n" for a in test_args)
    return {"prompt": prompt, "entry_point": name, "canonical_solution": f"\n    {body}\n",
            "test": f"def check(candidate):\n{asserts}"}


def _code_add(rng):
    k = rng.randint(2, 12)
    w = _WORDS[k]
    return _code_row(f"add_{w}", "x: int) -> int", f"Return x plus {k}.", f"return x + {k}",
                     lambda x: x + k, (rng.randint(1, 9),), [(0,), (rng.randint(10, 50),), (-k,)])


def _code_times(rng):
    k = rng.randint(2, 12)
    w = _WORDS[k]
    return _code_row(f"times_{w}", "x: int) -> int", f"Return x multiplied by {k}.", f"return x * {k}",
                     lambda x: x * k, (rng.randint(1, 9),), [(0,), (rng.randint(10, 30),), (-3,)])


def _code_sum_offset(rng):
    k = rng.randint(1, 12)
    w = _WORDS[k]
    return _code_row(f"sum_plus_{w}", "numbers: list) -> int",
                     f"Return the sum of the numbers in the list plus {k}.", f"return sum(numbers) + {k}",
                     lambda xs: sum(xs) + k, ([1, 2, 3],), [([],), ([5],), ([rng.randint(1, 9), 10, -2],)])


def _code_multiple(rng):
    k = rng.randint(2, 12)
    w = _WORDS[k]
    return _code_row(f"is_multiple_of_{w}", "n: int) -> bool",
                     f"Return True if n is a multiple of {k}, otherwise False.", f"return n % {k} == 0",
                     lambda n: n % k == 0, (k * 2,), [(k * 3,), (k + 1,), (0,), (k * 7 - 1,)])


def _code_greater(rng):
    k = rng.randint(1, 50)
    return _code_row(f"count_greater_than_{k}", "numbers: list) -> int",
                     f"Return how many numbers in the list are greater than {k}.",
                     f"return len([x for x in numbers if x > {k}])",
                     lambda xs: len([x for x in xs if x > k]), ([k - 1, k + 1, k + 5],),
                     [([],), ([k],), ([k + 1, k + 2, 0, k * 3 + 1],)])


def _code_clamp(rng):
    lo = rng.randint(0, 10)
    hi = lo + rng.randint(5, 20)
    return _code_row(f"clamp_{lo}_{hi}", "x: int) -> int",
                     f"Return x limited to the range from {lo} to {hi}: below {lo} gives {lo}, above {hi} gives {hi}.",
                     f"return max({lo}, min({hi}, x))", lambda x: max(lo, min(hi, x)), (hi + 3,),
                     [(lo - 1,), (hi + 100,), (lo + 1,), (hi,)])


def _code_fizz(rng):
    a, b = rng.sample([2, 3, 4, 5, 6, 7], 2)
    wa, wb = rng.sample(["Fizz", "Buzz", "Ping", "Pong", "Zip", "Zap"], 2)
    name = f"{wa.lower()}_{wb.lower()}_{a}_{b}"

    def ref(n):
        if n % a == 0 and n % b == 0:
            return wa + wb
        if n % a == 0:
            return wa
        if n % b == 0:
            return wb
        return str(n)
    doc = (f"Return \"{wa}{wb}\" if n is divisible by both {a} and {b}, \"{wa}\" if only by {a}, "
           f"\"{wb}\" if only by {b},\n    and otherwise n as a string.")
    body = (f"if n % {a} == 0 and n % {b} == 0:\n        return \"{wa}{wb}\"\n    if n % {a} == 0:\n"
            f"        return \"{wa}\"\n    if n % {b} == 0:\n        return \"{wb}\"\n    return str(n)")
    return _code_row(name, "n: int) -> str", doc, body, ref, (a,), [(a * b,), (b,), (a * b + 1,), (a * 2,)])


def _code_repeat(rng):
    k = rng.randint(2, 6)
    w = _WORDS[k]
    return _code_row(f"repeat_{w}_times", "s: str) -> str", f"Return the string s repeated {k} times.",
                     f"return s * {k}", lambda s: s * k, ("ab",), [("",), ("x",), ("hi!",)])


def _code_first_n(rng):
    k = rng.randint(1, 6)
    w = _WORDS[k]
    return _code_row(f"first_{w}_chars", "s: str) -> str",
                     f"Return the first {k} characters of s (all of s if it is shorter).", f"return s[:{k}]",
                     lambda s: s[:k], ("abcdefghij",), [("",), ("xy",), ("hello world",)])


def _code_last_n(rng):
    k = rng.randint(1, 6)
    w = _WORDS[k]
    return _code_row(f"last_{w}_chars", "s: str) -> str",
                     f"Return the last {k} characters of s (all of s if it is shorter).",
                     f"return s[-{k}:] if len(s) > {k} else s", lambda s: s[-k:] if len(s) > k else s,
                     ("abcdefghij",), [("",), ("xy",), ("hello world",)])


def _code_count_char(rng):
    c = rng.choice("abdehlmnorst")
    return _code_row(f"count_{c}", "s: str) -> int", f"Return how many times the letter '{c}' appears in s.",
                     f"return s.count({c!r})", lambda s: s.count(c), (f"{c}x{c}y",),
                     [("",), (c * 3,), (f"a{c}b{c}c",), ("zzz",)])


def _code_replace(rng):
    a, b = rng.sample("aeioustlnr", 2)
    return _code_row(f"replace_{a}_with_{b}", "s: str) -> str",
                     f"Return s with every '{a}' replaced by '{b}'.", f"return s.replace({a!r}, {b!r})",
                     lambda s: s.replace(a, b), (f"{a}x{a}",), [("",), (a * 2,), (f"q{a}q{b}",)])


def _code_string_case(rng):
    kind = rng.choice(["upper", "lower", "reverse", "swapcase", "title"])
    glue = rng.choice(["", "_string", "_text", "_word"])
    doc = {"upper": "Return s with every letter in upper case.", "lower": "Return s with every letter in lower case.",
           "reverse": "Return s reversed.", "swapcase": "Return s with upper case letters in lower case and "
           "lower case letters in upper case.", "title": "Return s with the first letter of every word in upper case."}
    body = {"upper": "return s.upper()", "lower": "return s.lower()", "reverse": "return s[::-1]",
            "swapcase": "return s.swapcase()", "title": "return s.title()"}
    ref = {"upper": str.upper, "lower": str.lower, "reverse": lambda s: s[::-1], "swapcase": str.swapcase,
           "title": str.title}
    return _code_row(f"{kind}{glue}", "s: str) -> str", doc[kind], body[kind], ref[kind], ("Hello world",),
                     [("",), ("abc DEF",), ("one two three",)])


def _code_max_pair(rng):
    kind = rng.choice(["max", "min"])
    k = rng.randint(0, 9)
    name = f"{'larger' if kind == 'max' else 'smaller'}_plus_{_WORDS.get(k, 'zero') if k else 'zero'}"
    word = "larger" if kind == "max" else "smaller"
    return _code_row(name, "a: int, b: int) -> int", f"Return the {word} of a and b, plus {k}.",
                     f"return {kind}(a, b) + {k}", lambda a, b: (max if kind == "max" else min)(a, b) + k,
                     (3, 8), [(1, 1), (-5, 2), (10, -10)])


def _code_filter(rng):
    kind = rng.choice(["even", "odd", "positive", "negative"])
    cond = {"even": "x % 2 == 0", "odd": "x % 2 == 1", "positive": "x > 0", "negative": "x < 0"}[kind]
    test = {"even": lambda x: x % 2 == 0, "odd": lambda x: x % 2 == 1, "positive": lambda x: x > 0,
            "negative": lambda x: x < 0}[kind]
    op = rng.choice(["keep", "sum", "count"])
    if op == "keep":
        return _code_row(f"keep_{kind}", "numbers: list) -> list",
                         f"Return a list of the {kind} numbers in the list, in their order.",
                         f"return [x for x in numbers if {cond}]", lambda xs: [x for x in xs if test(x)],
                         ([1, 2, 3, 4, -5],), [([],), ([0, -1, -2, 7],), ([9, 8, 7, 6],)])
    if op == "sum":
        return _code_row(f"sum_of_{kind}", "numbers: list) -> int",
                         f"Return the sum of the {kind} numbers in the list.",
                         f"return sum(x for x in numbers if {cond})", lambda xs: sum(x for x in xs if test(x)),
                         ([1, 2, 3, 4, -5],), [([],), ([0, -1, -2, 7],), ([9, 8, 7, 6],)])
    return _code_row(f"count_{kind}", "numbers: list) -> int", f"Return how many numbers in the list are {kind}.",
                     f"return len([x for x in numbers if {cond}])", lambda xs: len([x for x in xs if test(x)]),
                     ([1, 2, 3, 4, -5],), [([],), ([0, -1, -2, 7],), ([9, 8, 7, 6],)])


def _code_map(rng):
    k = rng.randint(2, 9)
    kind = rng.choice(["add", "times", "square_plus"])
    w = _WORDS[k]
    if kind == "add":
        return _code_row(f"add_{w}_to_each", "numbers: list) -> list", f"Return a list with {k} added to every number.",
                         f"return [x + {k} for x in numbers]", lambda xs: [x + k for x in xs], ([1, 2, 3],),
                         [([],), ([0],), ([-k, 10],)])
    if kind == "times":
        return _code_row(f"multiply_each_by_{w}", "numbers: list) -> list",
                         f"Return a list with every number multiplied by {k}.", f"return [x * {k} for x in numbers]",
                         lambda xs: [x * k for x in xs], ([1, 2, 3],), [([],), ([0],), ([-1, 10],)])
    return _code_row(f"square_plus_{w}", "x: int) -> int", f"Return the square of x plus {k}.", f"return x * x + {k}",
                     lambda x: x * x + k, (3,), [(0,), (-2,), (10,)])


def _code_vowels(rng):
    letters = "".join(sorted(rng.sample("aeiouy", rng.randint(2, 4))))
    pretty = ", ".join(f"'{c}'" for c in letters)
    return _code_row(f"count_letters_{letters}", "s: str) -> int",
                     f"Return how many characters of s are one of {pretty}.",
                     f"return sum(1 for c in s if c in {letters!r})", lambda s: sum(1 for c in s if c in letters),
                     ("banana boat",), [("",), ("xyz",), (letters * 2,), ("queue",)])


def _code_between(rng):
    lo = rng.randint(-10, 20)
    hi = lo + rng.randint(3, 30)
    name = f"between_{lo}_and_{hi}".replace("-", "minus_")
    return _code_row(name, "x: int) -> bool", f"Return True if x is between {lo} and {hi} (both included), "
                     "otherwise False.", f"return {lo} <= x <= {hi}", lambda x: lo <= x <= hi, (lo + 1,),
                     [(lo,), (hi,), (lo - 1,), (hi + 1,), ((lo + hi) // 2,)])


_AFFIXES = ["re", "un", "pre", "dis", "mis", "over", "under", "sub", "ing", "ed", "ly", "ness", "ful", "less",
            "able", "ment", "tion", "er", "est", "ish", "out", "up", "in", "co", "de", "ex", "anti", "auto",
            "bi", "tri"]


def _code_affix(rng):
    a = rng.choice(_AFFIXES)
    kind = rng.choice(["starts", "ends", "add_prefix", "add_suffix"])
    if kind == "starts":
        return _code_row(f"starts_with_{a}", "word: str) -> bool", f"Return True if word starts with '{a}'.",
                         f"return word.startswith({a!r})", lambda w: w.startswith(a), (a + "xyz",),
                         [("",), ("x" + a,), (a,), (a[0],)])
    if kind == "ends":
        return _code_row(f"ends_with_{a}", "word: str) -> bool", f"Return True if word ends with '{a}'.",
                         f"return word.endswith({a!r})", lambda w: w.endswith(a), ("xyz" + a,),
                         [("",), (a + "x",), (a,), (a[-1],)])
    if kind == "add_prefix":
        return _code_row(f"add_prefix_{a}", "word: str) -> str", f"Return word with '{a}' added at the start.",
                         f"return {a!r} + word", lambda w: a + w, ("do",), [("",), ("play",), (a,)])
    return _code_row(f"add_suffix_{a}", "word: str) -> str", f"Return word with '{a}' added at the end.",
                     f"return word + {a!r}", lambda w: w + a, ("do",), [("",), ("play",), (a,)])


_CODE_FAMILIES = [_code_add, _code_times, _code_sum_offset, _code_multiple, _code_greater, _code_clamp,
                  _code_fizz, _code_repeat, _code_first_n, _code_last_n, _code_count_char, _code_replace,
                  _code_string_case, _code_max_pair, _code_filter, _code_map, _code_vowels, _code_between,
                  _code_affix]
_CODE_FAMILY_CAP = 48  # at most this many items of one family


def generate_code_items(n: int, seed: int = SEED, prefix: str = "code") -> list[dict]:
    """``n`` small functions, one per distinct function name, families cycled in a fixed order."""
    rng = random.Random(seed)
    rows: list[dict] = []
    names: set[str] = set()
    per_family: dict[str, int] = {}
    i = 0
    while len(rows) < n:
        fam = _CODE_FAMILIES[i % len(_CODE_FAMILIES)]
        i += 1
        if i > 100_000:
            raise RuntimeError(f"the code families give only {len(rows)} distinct items (asked for {n})")
        row = fam(rng)
        if row["entry_point"] in names or per_family.get(fam.__name__, 0) >= _CODE_FAMILY_CAP:
            continue
        names.add(row["entry_point"])
        per_family[fam.__name__] = per_family.get(fam.__name__, 0) + 1
        rows.append({"task_id": f"rs_code/{len(rows)}", "id": f"{prefix}-{len(rows):03d}", **row,
                     "family": fam.__name__[6:]})
    return rows
