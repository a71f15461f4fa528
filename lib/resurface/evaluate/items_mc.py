"""Course multiple-choice items (the ARC / MMLU stand-in): question families over small fact tables.

Distractors come from the same category as the gold answer (another capital, another element, a
nearby number or the result of the wrong operation), so a choice can be ruled out only by knowing the
fact. Category-membership questions take their distractors from the other categories of the same kind.
"""

from __future__ import annotations

import random

from resurface.evaluate.itemrules import shuffle_choices

SEED = 4101


_CAPITALS = [  # country -> capital
    ("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"), ("Japan", "Tokyo"),
    ("Egypt", "Cairo"), ("Russia", "Moscow"), ("Greece", "Athens"), ("Portugal", "Lisbon"),
    ("Ireland", "Dublin"), ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"), ("Austria", "Vienna"), ("Poland", "Warsaw"), ("Hungary", "Budapest"),
    ("Canada", "Ottawa"), ("Australia", "Canberra"), ("China", "Beijing"), ("India", "New Delhi"),
    ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Argentina", "Buenos Aires"), ("Mexico", "Mexico City"),
    ("Thailand", "Bangkok"), ("South Korea", "Seoul"), ("Turkey", "Ankara"), ("Belgium", "Brussels"),
    ("the Netherlands", "Amsterdam"), ("Switzerland", "Bern"), ("Chile", "Santiago"), ("Cuba", "Havana"),
    ("Iran", "Tehran"), ("Iraq", "Baghdad"), ("Vietnam", "Hanoi"), ("the Philippines", "Manila"),
    ("Indonesia", "Jakarta"), ("Colombia", "Bogota"), ("Brazil", "Brasilia"), ("Nigeria", "Abuja"),
    ("Morocco", "Rabat"), ("Ukraine", "Kyiv"), ("Czechia", "Prague"), ("Scotland", "Edinburgh"),
    ("England", "London"), ("Wales", "Cardiff"), ("Iceland", "Reykjavik"),
]
_ELEMENTS = [  # symbol -> element
    ("H", "hydrogen"), ("He", "helium"), ("Li", "lithium"), ("C", "carbon"), ("N", "nitrogen"),
    ("O", "oxygen"), ("F", "fluorine"), ("Ne", "neon"), ("Na", "sodium"), ("Mg", "magnesium"),
    ("Al", "aluminium"), ("Si", "silicon"), ("P", "phosphorus"), ("S", "sulfur"), ("Cl", "chlorine"),
    ("K", "potassium"), ("Ca", "calcium"), ("Fe", "iron"), ("Cu", "copper"), ("Zn", "zinc"),
    ("Ag", "silver"), ("Au", "gold"), ("Hg", "mercury"), ("Pb", "lead"), ("Sn", "tin"), ("U", "uranium"),
    ("Ni", "nickel"), ("Ar", "argon"), ("I", "iodine"), ("Pt", "platinum"),
]
_ANIMAL_CLASSES = {
    "a mammal": ["dog", "cat", "horse", "cow", "whale", "dolphin", "bat", "elephant", "lion", "tiger",
                 "mouse", "rabbit", "bear", "goat", "sheep", "monkey", "giraffe", "kangaroo", "pig", "wolf"],
    "a bird": ["eagle", "sparrow", "penguin", "owl", "parrot", "duck", "swan", "robin", "crow", "ostrich",
               "pigeon", "hawk", "chicken", "goose", "flamingo"],
    "a fish": ["salmon", "trout", "shark", "tuna", "cod", "goldfish", "carp", "herring", "sardine", "eel"],
    "a reptile": ["snake", "lizard", "crocodile", "turtle", "tortoise", "alligator", "iguana", "gecko",
                  "chameleon", "cobra"],
    "an amphibian": ["frog", "toad", "newt", "salamander"],
    "an insect": ["ant", "bee", "butterfly", "beetle", "fly", "mosquito", "grasshopper", "ladybird",
                  "wasp", "moth", "cricket", "dragonfly"],
}
_CATEGORIES = {  # kind -> category -> members (distractors come from the other categories of the kind)
    "food": {
        "a fruit": ["an apple", "a banana", "a pear", "a cherry", "a mango", "a plum", "a grape", "a lemon",
                    "an orange", "a peach", "a melon", "a strawberry"],
        "a vegetable": ["a carrot", "a potato", "an onion", "a cabbage", "a leek", "a turnip", "a radish",
                        "a pea", "a cucumber", "a lettuce", "a parsnip", "a beetroot"],
        "a drink": ["a glass of milk", "a cup of tea", "a cup of coffee", "a glass of juice",
                    "a glass of water", "a cup of cocoa", "a glass of lemonade"],
    },
    "thing": {
        "a tool": ["a hammer", "a saw", "a screwdriver", "a wrench", "a drill", "a chisel", "a pair of pliers",
                   "a shovel", "a rake"],
        "a piece of furniture": ["a chair", "a table", "a sofa", "a bed", "a wardrobe", "a desk", "a bookshelf",
                                 "a stool", "a cupboard"],
        "a musical instrument": ["a violin", "a piano", "a guitar", "a flute", "a drum", "a trumpet", "a harp",
                                 "a cello", "a clarinet"],
        "a vehicle": ["a bus", "a truck", "a bicycle", "a train", "a tractor", "a motorbike", "a van",
                      "a taxi", "a tram"],
        "a piece of clothing": ["a shirt", "a coat", "a sock", "a scarf", "a skirt", "a jacket", "a sweater",
                                "a glove", "a dress"],
    },
}
_OPPOSITES = [("hot", "cold"), ("big", "small"), ("fast", "slow"), ("up", "down"), ("happy", "sad"),
              ("light", "dark"), ("early", "late"), ("full", "empty"), ("open", "closed"), ("wet", "dry"),
              ("young", "old"), ("hard", "soft"), ("tall", "short"), ("loud", "quiet"), ("rich", "poor"),
              ("strong", "weak"), ("clean", "dirty"), ("thick", "thin"),
              ("inside", "outside"), ("first", "last"), ("win", "lose"), ("push", "pull"),
              ("buy", "sell"), ("above", "below"), ("day", "night"), ("sweet", "sour"), ("cheap", "expensive")]
_YOUNG = [("dog", "a puppy"), ("cat", "a kitten"), ("cow", "a calf"), ("horse", "a foal"), ("sheep", "a lamb"),
          ("pig", "a piglet"), ("duck", "a duckling"), ("frog", "a tadpole"), ("goat", "a kid"),
          ("bear", "a cub"), ("hen", "a chick"), ("swan", "a cygnet"), ("kangaroo", "a joey"),
          ("deer", "a fawn"), ("goose", "a gosling"), ("owl", "an owlet")]
_UNITS = [  # (bigger unit, smaller unit, how many)
    ("metre", "centimetres", 100), ("kilometre", "metres", 1000), ("hour", "minutes", 60),
    ("minute", "seconds", 60), ("day", "hours", 24), ("week", "days", 7), ("year", "months", 12),
    ("kilogram", "grams", 1000), ("litre", "millilitres", 1000), ("dozen", "items", 12),
    ("century", "years", 100), ("decade", "years", 10), ("centimetre", "millimetres", 10),
]
_MEASURES = [("mass", "kilograms"), ("length", "metres"), ("time", "seconds"), ("temperature", "degrees Celsius"),
             ("volume", "litres"), ("electric current", "amperes"), ("energy", "joules"), ("power", "watts"),
             ("force", "newtons"), ("frequency", "hertz")]
_PLANETS = ["Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]


def _num_distractors(rng: random.Random, gold: int, wrong: list[int]) -> list[str]:
    pool = [w for w in wrong if w != gold and w >= 0]
    for d in (1, 2, 10, 3, 5, 4, 11, 9, 20):
        pool += [gold + d, gold - d]
    seen, out = {gold}, []
    for x in pool:
        if x not in seen and x >= 0:
            seen.add(x)
            out.append(x)
    first = out[:len([w for w in wrong if w != gold and w >= 0])]
    rest = out[len(first):]
    rng.shuffle(rest)
    return [str(x) for x in (first + rest)[:3]]


def _mc_capital(rng):
    country, capital = rng.choice(_CAPITALS)
    others = rng.sample([c for _, c in _CAPITALS if c != capital], 3)
    return f"What is the capital city of {country}?", capital, others


def _mc_country(rng):
    country, capital = rng.choice(_CAPITALS)
    others = rng.sample([c for c, _ in _CAPITALS if c != country], 3)
    return f"{capital} is the capital city of which country?", country, others


def _mc_element(rng):
    sym, name = rng.choice(_ELEMENTS)
    others = rng.sample([n for _, n in _ELEMENTS if n != name], 3)
    return f"Which chemical element has the symbol {sym}?", name, others


def _mc_symbol(rng):
    sym, name = rng.choice(_ELEMENTS)
    others = rng.sample([s for s, _ in _ELEMENTS if s != sym], 3)
    return f"What is the chemical symbol of {name}?", sym, others


def _mc_animal(rng):
    cls = rng.choice(list(_ANIMAL_CLASSES))
    animal = rng.choice(_ANIMAL_CLASSES[cls])
    others = rng.sample([c for c in _ANIMAL_CLASSES if c != cls], 3)
    return f"What kind of animal is a {animal}?", cls, others


def _mc_which_animal(rng):
    cls = rng.choice(list(_ANIMAL_CLASSES))
    gold = rng.choice(_ANIMAL_CLASSES[cls])
    others = rng.sample([a for c, xs in _ANIMAL_CLASSES.items() if c != cls for a in xs], 3)
    art = lambda w: ("an " if w[0] in "aeiou" else "a ") + w  # noqa: E731
    return f"Which of these animals is {cls}?", art(gold), [art(o) for o in others]


def _mc_category(rng):
    kind = rng.choice(list(_CATEGORIES))
    cat = rng.choice(list(_CATEGORIES[kind]))
    gold = rng.choice(_CATEGORIES[kind][cat])
    others = rng.sample([m for c, ms in _CATEGORIES[kind].items() if c != cat for m in ms], 3)
    return f"Which of these is {cat}?", gold, others


def _mc_opposite(rng):
    a, b = rng.choice(_OPPOSITES)
    if rng.random() < 0.5:
        a, b = b, a
    others = rng.sample([w for p in _OPPOSITES for w in p if w not in (a, b)], 3)
    return f"What is the opposite of \"{a}\"?", b, others


def _mc_young(rng):
    animal, young = rng.choice(_YOUNG)
    others = rng.sample([y for a, y in _YOUNG if y != young], 3)
    return f"What is a young {animal} called?", young, others


def _mc_unit(rng):
    big, small, k = rng.choice(_UNITS)
    n = rng.choice([1, 1, 2, 3, 4, 5])
    what = f"one {big}" if n == 1 else f"{n} {'centuries' if big == 'century' else big + 's'}"
    gold = n * k
    return (f"How many {small} are there in {what}?", str(gold),
            _num_distractors(rng, gold, [n * k * 10, n * k // 10 if k >= 100 else n + k, n + k]))


def _mc_measure(rng):
    qty, unit = rng.choice(_MEASURES)
    others = rng.sample([u for q, u in _MEASURES if u != unit], 3)
    return f"Which unit is used to measure {qty}?", unit, others


def _mc_planet(rng):
    i = rng.randrange(len(_PLANETS))
    others = rng.sample([p for p in _PLANETS if p != _PLANETS[i]], 3)
    return f"Which planet is the {_ORDINALS[i]} planet from the Sun?", _PLANETS[i], others


def _mc_arith(rng):
    op = rng.choice(["plus", "minus", "times"])
    a, b = rng.randint(3, 19), rng.randint(2, 12)
    if op == "plus":
        gold, wrong = a + b, [a * b, abs(a - b)]
    elif op == "minus":
        a = a + b
        gold, wrong = a - b, [a + b]
    else:
        a = rng.randint(2, 12)
        gold, wrong = a * b, [a + b, a * (b + 1)]
    return f"What is {a} {op} {b}?", str(gold), _num_distractors(rng, gold, wrong)


def _mc_compare(rng):
    nums = rng.sample(range(10, 999), 4)
    if rng.random() < 0.5:
        q, gold = "Which of these numbers is the largest?", max(nums)
    else:
        q, gold = "Which of these numbers is the smallest?", min(nums)
    return q, str(gold), [str(x) for x in nums if x != gold]


def _mc_even(rng):
    want_even = rng.random() < 0.5
    gold = rng.randrange(10, 200, 2) + (0 if want_even else 1)
    others = set()
    while len(others) < 3:
        x = rng.randrange(10, 200, 2) + (1 if want_even else 0)
        others.add(x)
    word = "an even" if want_even else "an odd"
    return f"Which of these is {word} number?", str(gold), [str(x) for x in sorted(others)]


_MC_FAMILIES = [_mc_capital, _mc_country, _mc_element, _mc_symbol, _mc_animal, _mc_which_animal,
                _mc_category, _mc_opposite, _mc_young, _mc_unit, _mc_measure, _mc_planet, _mc_arith,
                _mc_compare, _mc_even]


def mc_candidates(seed: int, prefix: str):
    rng = random.Random(seed)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    qcount: dict[str, int] = {}
    i = 0
    while True:
        fam = _MC_FAMILIES[i % len(_MC_FAMILIES)]
        i += 1
        q, gold, distractors = fam(rng)
        if len({gold, *distractors}) != 4:
            continue
        # one item per question text (a capital asked twice would be the same item with other distractors)
        if qcount.get(q, 0) >= (1 if fam not in (_mc_category, _mc_which_animal, _mc_compare, _mc_even,
                                                 _mc_arith) else 3):
            continue
        choices, answer = shuffle_choices(rng, gold, distractors)
        key = (q, tuple(sorted(choices)))
        if key in seen:
            continue
        seen.add(key)
        qcount[q] = qcount.get(q, 0) + 1
        yield {"question": q, "choices": choices, "answer": answer, "family": fam.__name__[4:]}
        if i > 200_000:
            return


def mc_text(r: dict) -> str:
    return " ".join([r["question"], *r["choices"]])


def generate_mc_items(n: int, seed: int = SEED, prefix: str = "mc") -> list[dict]:
    """``n`` four-choice questions from the fact tables, families cycled in a fixed order."""
    rows = []
    for row in mc_candidates(seed, prefix):
        rows.append({"id": f"{prefix}-{len(rows):03d}", **row})
        if len(rows) == n:
            return rows
    raise RuntimeError(f"the MC tables give only {len(rows)} distinct items (asked for {n})")
