"""Seeded generators of the course task items (``lib/resurface/evaluate/tasks/data/*.jsonl``).

Every item file of the course tasks is written by :func:`write_all` from the tables and templates in
this module (written for this project, never copied from a benchmark). Regenerating gives
byte-identical files (``tests/test_itemgen.py`` checks it), so an item file can always be traced to
this code and a seed.

========================  ===========  =====================================================================
file                      items        how
========================  ===========  =====================================================================
``math.jsonl``            POOL_SIZE    :func:`resurface.evaluate.coursetasks.generate_math_items` (one/two-step word problems)
``mc.jsonl``              POOL_SIZE    question families over fact tables (below), 4 choices
``completion.jsonl``      POOL_SIZE    everyday scenes x subjects, 1 sensible + 3 wrong endings
``code.jsonl``            POOL_SIZE    parameterised small-function families with hidden tests
``*_train.jsonl``         TRAIN_SIZE   few-shot pools, drawn with other seeds (or held-out scenes)
========================  ===========  =====================================================================

Disjointness: every few-shot candidate that has the same question as a test item, or shares a word
8-gram (the decontamination rule of :mod:`resurface.corpus.decontam`) with any test item, is rejected, so
the test and few-shot pools are disjoint in exact text and in 8-grams.

Distractors
- MC: drawn from the **same category** as the gold answer (another capital for a capital, another
  element name for an element, another animal class, a nearby number for arithmetic: gold +- a
  small offset, or the result of the wrong operation), so a choice can be ruled out only by knowing
  the fact, not by its form. Category-membership questions ("Which of these is a fruit?") take the
  three distractors from other categories of the same kind of thing (vegetables, tools, ...).
- Completion: one distractor is the sensible ending of **another scene** (fluent, but wrong for this
  context), two violate the scene's physical or temporal logic (written per scene).
- Code: hidden tests are computed by the family's reference implementation on fixed inputs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from resurface.evaluate.coursetasks import DATA, MATH_SEED, generate_math_items, write_jsonl

POOL_SIZE = 480  # test items per course task (>= 400)
TRAIN_SIZE = 40  # few-shot pool size per task (math, MC, completion)
SEEDS = {"mc": 4101, "completion": 4201, "code": 4301}
NGRAM = 8  # the decontamination n-gram (resurface.corpus.decontam, METHODS.md c.2)


# ============================================================================ helpers
def _ngrams(text: str) -> set[str]:
    from resurface.ngrams import ngrams, normalize

    return set(ngrams(normalize(text), NGRAM))


def _shuffle_choices(rng: random.Random, gold: str, distractors: list[str]) -> tuple[list[str], int]:
    choices = [gold, *distractors]
    rng.shuffle(choices)
    return choices, choices.index(gold)


def _disjoint_pool(candidates, n: int, test_rows: list[dict], text_of, key_of) -> list[dict]:
    """The first ``n`` candidates that share neither key (exact text) nor a word 8-gram with a test row."""
    keys = {key_of(r) for r in test_rows}
    grams: set[str] = set()
    for r in test_rows:
        grams |= _ngrams(text_of(r))
    out = []
    for row in candidates:
        if key_of(row) in keys or _ngrams(text_of(row)) & grams:
            continue
        keys.add(key_of(row))
        out.append(row)
        if len(out) == n:
            return out
    raise RuntimeError(f"only {len(out)} of {n} disjoint few-shot items could be generated")


# ============================================================================ multiple choice
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


def _mc_candidates(seed: int, prefix: str):
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
        choices, answer = _shuffle_choices(rng, gold, distractors)
        key = (q, tuple(sorted(choices)))
        if key in seen:
            continue
        seen.add(key)
        qcount[q] = qcount.get(q, 0) + 1
        yield {"question": q, "choices": choices, "answer": answer, "family": fam.__name__[4:]}
        if i > 200_000:
            return


def _mc_text(r: dict) -> str:
    return " ".join([r["question"], *r["choices"]])


def generate_mc_items(n: int, seed: int = SEEDS["mc"], prefix: str = "mc") -> list[dict]:
    """``n`` four-choice questions from the fact tables, families cycled in a fixed order."""
    rows = []
    for row in _mc_candidates(seed, prefix):
        rows.append({"id": f"{prefix}-{len(rows):03d}", **row})
        if len(rows) == n:
            return rows
    raise RuntimeError(f"the MC tables give only {len(rows)} distinct items (asked for {n})")


# ============================================================================ completion
# (activity, context after the subject, sensible ending, two endings that break the scene's logic)
_SCENES = [
    ("Making tea", "fills a kettle with water and switches it on. When the water boils,",
     "pours it over a tea bag in a mug.", ["puts the kettle in the freezer to boil faster.",
                                           "pours the boiling water into the flower pot before filling the kettle."]),
    ("Washing dishes", "puts the dirty plates in the sink and turns on the hot water. Then",
     "scrubs the plates with a soapy sponge.", ["dries the plates before they get wet.",
                                                "puts the plates in the oven to wash them."]),
    ("Riding a bike", "puts on a helmet and climbs onto the bicycle. Then",
     "pushes the pedals and rides down the street.", ["folds the bicycle into a pocket.",
                                                      "pours water into the tires to make them faster."]),
    ("Brushing teeth", "squeezes toothpaste onto a toothbrush. Then",
     "brushes in small circles and rinses with water.", ["spreads the toothpaste on the window.",
                                                         "puts the toothbrush in the oven."]),
    ("Planting a tree", "digs a deep hole in the yard and lowers a young tree into it. Then",
     "fills the hole with soil and waters the tree.", ["paints the hole yellow.",
                                                       "pulls the tree out and throws it in the river."]),
    ("Baking bread", "mixes flour, water, yeast and salt into a dough. Then",
     "kneads the dough and leaves it to rise.", ["washes the dough in the sink.",
                                                 "eats the bread before it is baked."]),
    ("Crossing the street", "stops at the edge of the road and waits for the light to turn green. Then",
     "looks both ways and walks across.", ["lies down in the middle of the road.",
                                           "walks across before the light changes and then waits."]),
    ("Reading a book", "sits in a comfortable chair and opens a new novel. Then",
     "turns the pages and reads the first chapter.", ["reads the last page before opening the book.",
                                                      "throws the book into the fireplace to read it."]),
    ("Doing laundry", "puts the dirty clothes into the washing machine. Then",
     "adds detergent and starts the machine.", ["irons the clothes inside the machine.",
                                                "hangs the washing machine on the line to dry."]),
    ("Painting a wall", "covers the floor with old sheets and opens a can of paint. Then",
     "dips a roller in the paint and rolls it up the wall.", ["drinks the paint from the can.",
                                                              "paints the sheets instead of the wall."]),
    ("Fishing", "sits on the riverbank and puts a worm on the hook. Then",
     "casts the line into the water and waits.", ["throws the fishing rod into the trees.",
                                                  "eats the worm and goes home."]),
    ("Making a sandwich", "takes two slices of bread and a jar of peanut butter. Then",
     "spreads peanut butter on one slice and covers it with the other.",
     ["spreads the peanut butter on the floor.", "toasts the jar instead of the bread."]),
    ("Washing a car", "fills a bucket with soapy water and grabs a sponge. Then",
     "scrubs the car from the roof down to the wheels.", ["pours sand on the car to clean it.",
                                                          "drives the car into the bucket."]),
    ("Mowing the lawn", "pushes the lawn mower out of the shed and starts the engine. Then",
     "walks the mower up and down the grass in straight lines.",
     ["mows the kitchen floor.", "waters the mower so it will grow."]),
    ("Setting the table", "places a plate in front of each chair. Then",
     "puts a fork on the left and a knife on the right of each plate.",
     ["puts the chairs on top of the plates.", "clears the table before the plates are put down."]),
    ("Going to sleep", "puts on pajamas and turns off the light. Then",
     "climbs into bed and closes both eyes.", ["runs a marathon around the bedroom.",
                                               "wakes up before falling asleep."]),
    ("Pouring cereal", "takes a bowl and a box of cereal from the cupboard. Then",
     "pours cereal into the bowl and adds milk.", ["pours the milk into the cereal box.",
                                                   "eats the bowl."]),
    ("Swimming", "climbs down the ladder into the swimming pool. Then",
     "kicks both legs and swims to the other end.", ["stands on the water and reads a newspaper.",
                                                     "dries off with a towel while still in the water."]),
    ("Building a snowman", "rolls a big ball of snow across the garden. Then",
     "puts a smaller ball on top for the head.", ["puts the snowman in the oven to keep it warm.",
                                                  "waters the snow so it grows."]),
    ("Writing a letter", "sits at the desk with a pen and a sheet of paper. Then",
     "writes a greeting at the top of the page.", ["eats the paper and writes on the desk.",
                                                   "mails the letter before writing it."]),
    ("Feeding a cat", "opens a tin of cat food while the cat meows. Then",
     "spoons the food into the cat's bowl.", ["puts the cat into the tin.",
                                              "feeds the food to the sofa."]),
    ("Walking the dog", "clips a leash onto the dog's collar. Then",
     "walks the dog around the park.", ["puts the leash on the fridge and walks away.",
                                        "carries the park home on the leash."]),
    ("Making a bed", "pulls the sheet tight over the mattress. Then",
     "spreads the blanket and puts the pillows at the top.", ["puts the pillows under the mattress and sleeps on the floor.",
                                                              "paints the sheet blue."]),
    ("Cooking pasta", "brings a big pot of salted water to the boil. Then",
     "adds the pasta and stirs it for ten minutes.", ["adds the pasta to the cold fridge to cook it.",
                                                      "drains the pasta before putting it in the pot."]),
    ("Taking a photo", "holds up the camera and points it at the mountains. Then",
     "presses the button to take a picture.", ["throws the camera at the mountains.",
                                               "looks at the photo before taking it."]),
    ("Cleaning windows", "sprays cleaner on the dusty window. Then",
     "wipes the glass with a dry cloth.", ["paints the glass with mud.",
                                           "drinks the cleaner."]),
    ("Watering plants", "fills the watering can at the tap. Then",
     "pours water on the soil around each plant.", ["pours the water into a shoe.",
                                                    "waters the plants with sand."]),
    ("Paying at a shop", "puts the groceries on the counter. Then",
     "pays the cashier and packs the bags.", ["climbs over the counter and takes a nap.",
                                              "leaves the shop and then pays for the food."]),
    ("Peeling an orange", "picks up a ripe orange from the bowl. Then",
     "peels off the skin and eats the pieces.", ["peels the bowl.", "plants the peel in a glass of milk."]),
    ("Tying shoes", "puts on a pair of sneakers. Then",
     "ties the laces into a bow.", ["ties the laces to the ceiling.", "puts the shoes on the head."]),
    ("Playing the piano", "sits down at the piano and opens the music book. Then",
     "places both hands on the keys and plays a song.", ["plays the music book with a fork.",
                                                         "pours soup into the piano."]),
    ("Flying a kite", "runs across the windy field holding the string of a kite. Then",
     "lets out more string as the kite rises.", ["buries the kite in the sand.",
                                                 "ties the kite to a fish."]),
    ("Shaving", "spreads shaving cream on the chin. Then",
     "slides the razor gently over the cream.", ["spreads the cream on the toast and eats it.",
                                                 "shaves the mirror."]),
    ("Packing a suitcase", "opens a suitcase on the bed. Then",
     "folds the clothes and lays them inside.", ["puts the bed inside the suitcase.",
                                                 "locks the suitcase before packing anything and leaves."]),
    ("Boiling eggs", "puts three eggs in a pot of water on the stove. Then",
     "waits for the water to boil for eight minutes.", ["puts the pot in the freezer.",
                                                        "eats the eggs before they are cooked and then boils the shells."]),
    ("Raking leaves", "takes a rake into the garden where leaves cover the grass. Then",
     "rakes the leaves into a big pile.", ["glues the leaves back onto the trees.",
                                           "rakes the roof of the house."]),
    ("Lighting a candle", "strikes a match. Then",
     "holds the flame to the wick of the candle.", ["puts the match in a glass of water and lights the candle with it.",
                                                    "throws the candle at the ceiling."]),
    ("Eating soup", "sits at the table with a hot bowl of soup. Then",
     "blows on a spoonful and sips it.", ["eats the soup with a fork.",
                                          "pours the soup into a shoe."]),
    ("Climbing stairs", "stands at the bottom of the stairs with a bag. Then",
     "walks up the stairs one step at a time.", ["swims up the stairs.",
                                                 "reaches the top before leaving the bottom step."]),
    ("Sweeping the floor", "takes a broom from the closet. Then",
     "sweeps the dust into a dustpan.", ["sweeps the dust into the soup.",
                                         "rides the broom out of the window."]),
    ("Filling a car with fuel", "parks the car next to the petrol pump. Then",
     "opens the fuel cap and fills the tank.", ["fills the tank with orange juice.",
                                                "drives away and then opens the fuel cap."]),
    ("Wrapping a present", "puts a book in a box and takes out wrapping paper. Then",
     "wraps the box and tapes the edges.", ["wraps the scissors and gives away the book.",
                                            "eats the wrapping paper."]),
    ("Knitting", "holds two knitting needles and a ball of wool. Then",
     "loops the wool around the needles to make a scarf.", ["knits a scarf out of spaghetti.",
                                                            "throws the needles into the soup."]),
    ("Making coffee", "puts ground coffee into the machine and adds water. Then",
     "presses the start button and waits for the coffee.", ["drinks the water before putting it in.",
                                                            "pours the coffee beans into the bath."]),
    ("Hanging a picture", "holds a nail against the wall and picks up a hammer. Then",
     "taps the nail into the wall and hangs the picture on it.",
     ["hammers the picture into the floor.", "hangs the hammer on the picture."]),
    ("Camping", "unrolls the tent on a flat patch of grass. Then",
     "pushes the poles through the tent and pegs it down.", ["sets the tent on fire to keep warm.",
                                                             "sleeps in the tent bag instead."]),
    ("Chopping vegetables", "puts a carrot on the cutting board and picks up a knife. Then",
     "cuts the carrot into thin slices.", ["cuts the cutting board in half.",
                                           "throws the carrot at the window."]),
    ("Skating", "laces up the ice skates and steps onto the frozen pond. Then",
     "glides slowly across the ice.", ["swims across the frozen ice.",
                                       "melts the pond with a hair dryer first."]),
    ("Using a phone", "picks up the ringing phone. Then",
     "answers the call and says hello.", ["puts the phone in the washing machine.",
                                          "answers the call before it rings."]),
    ("Getting a haircut", "sits in the barber's chair and puts on a cape. Then",
     "waits while the barber trims the hair.", ["cuts the barber's chair in half.",
                                                "washes the cape with a hair dryer."]),
    ("Carving a pumpkin", "cuts the top off a big orange pumpkin. Then",
     "scoops out the seeds with a spoon.", ["puts the pumpkin on the head and goes to sleep.",
                                            "paints the pumpkin with soup."]),
    ("Sending an email", "opens the laptop and writes a short message. Then",
     "types the address and clicks the send button.", ["sends the laptop by post.",
                                                       "prints the email and eats it."]),
    ("Making pancakes", "pours a spoonful of batter into a hot pan. Then",
     "flips the pancake when bubbles appear.", ["flips the pan onto the ceiling.",
                                                "pours the batter into the shoe."]),
    ("Hiking", "puts on boots and walks up the mountain path. Then",
     "stops at the top to enjoy the view.", ["reaches the top before starting the walk.",
                                             "swims up the mountain."]),
    ("Gardening", "kneels by the flower bed and pulls out the weeds. Then",
     "puts the weeds in a bucket and waters the flowers.", ["plants the weeds in the living room.",
                                                            "waters the bucket instead of the flowers."]),
    ("Feeding ducks", "walks to the pond with a bag of bird seed. Then",
     "throws a handful of seed to the ducks.", ["throws the ducks into the bag.",
                                                "feeds the seed to the pond's stones."]),
    ("Drying hair", "switches on the hair dryer after a shower. Then",
     "moves the warm air through the wet hair.", ["dries the shower instead.",
                                                  "puts the hair dryer in the bath."]),
    ("Locking up", "turns off the lights and steps out of the house. Then",
     "locks the front door with a key.", ["locks the key inside the door and throws away the house.",
                                          "turns the lights back on from the street with a spoon."]),
    ("Grilling", "lights the charcoal in the barbecue. Then",
     "places the burgers on the hot grill.", ["places the burgers in the fridge to grill them.",
                                              "grills the charcoal and eats it."]),
    ("Playing football", "kicks the ball toward the goal. Then",
     "watches the ball fly past the goalkeeper into the net.", ["catches the ball with a fishing net.",
                                                                "kicks the goal instead of the ball."]),
    ("Sewing a button", "threads a needle and holds a loose button against the shirt. Then",
     "pushes the needle through the holes of the button.", ["glues the needle to the shirt.",
                                                            "sews the button onto the table."]),
    ("Making a smoothie", "puts bananas and milk into the blender. Then",
     "closes the lid and blends them until smooth.", ["blends the blender.",
                                                      "drinks the smoothie before blending it."]),
    ("Taking out the trash", "ties the full rubbish bag. Then",
     "carries it outside to the bin.", ["empties the bag onto the bed.",
                                        "puts the bag in the fridge."]),
    ("Ironing a shirt", "lays the creased shirt on the ironing board. Then",
     "presses the hot iron over the fabric.", ["irons the floor instead.",
                                               "puts the shirt in the oven to iron it."]),
    ("Checking the mail", "walks to the mailbox at the end of the driveway. Then",
     "opens it and takes out the letters.", ["climbs into the mailbox and sleeps.",
                                             "posts the driveway in the mailbox."]),
    ("Going to the dentist", "sits in the dentist's chair and opens wide. Then",
     "waits while the dentist checks each tooth.", ["bites the dentist's chair.",
                                                    "brushes the dentist's shoes."]),
    ("Buying a ticket", "walks up to the ticket machine at the station. Then",
     "chooses a destination and pays for the ticket.", ["eats the ticket machine.",
                                                        "boards the train before the station opens."]),
    ("Tidying a room", "picks up the toys scattered on the floor. Then",
     "puts them back in the toy box.", ["throws the toys out of the window.",
                                        "scatters them again before picking them up."]),
    ("Making lemonade", "squeezes lemons into a jug. Then",
     "adds water and sugar and stirs.", ["adds sand and stirs.", "squeezes the jug."]),
    ("Rowing a boat", "sits in the little boat and picks up the oars. Then",
     "pulls the oars through the water.", ["rows the boat across the car park.",
                                           "throws the oars in the water and rows with a spoon."]),
    ("Blowing out candles", "leans over the birthday cake. Then",
     "blows out all the candles at once.", ["blows the cake off the table.",
                                            "lights the candles after blowing them out."]),
    ("Shoveling snow", "grabs a shovel after a night of heavy snow. Then",
     "clears the snow from the front path.", ["shovels the snow into the kitchen.",
                                              "waters the snow to make it melt faster."]),
    ("Charging a phone", "notices the phone battery is almost empty. Then",
     "plugs the phone into the charger.", ["puts the phone in the freezer to charge it.",
                                           "throws the charger away and waits."]),
    ("Bathing a baby", "fills a small tub with warm water. Then",
     "gently washes the baby with a soft cloth.", ["fills the tub with cold soup.",
                                                   "dries the baby before the bath begins."]),
    ("Picking apples", "climbs a ladder under the apple tree. Then",
     "picks the ripe apples and drops them into a basket.", ["plants the ladder in the basket.",
                                                             "picks the leaves and leaves the apples."]),
    ("Sharpening a pencil", "puts a blunt pencil into the sharpener. Then",
     "twists the pencil until the tip is sharp.", ["sharpens the eraser instead.",
                                                   "throws the sharpener into the ink."]),
    ("Baking cookies", "puts a tray of cookie dough into the hot oven. Then",
     "takes the cookies out when they are golden.", ["puts the oven into the cookies.",
                                                     "eats the dough tray and all."]),
    ("Unpacking groceries", "sets the shopping bags on the kitchen counter. Then",
     "puts the milk in the fridge and the bread in the cupboard.",
     ["puts the milk in the oven and the bread in the bath.", "throws the bags into the garden."]),
    ("Jogging", "puts on running shoes and steps outside. Then",
     "jogs slowly around the block.", ["runs a lap around the kitchen sink.",
                                       "jogs while sitting in an armchair."]),
    ("Brushing a horse", "leads the horse out of the stable. Then",
     "brushes its coat from the neck to the tail.", ["brushes the stable roof.",
                                                     "puts the horse in the car."]),
    ("Pumping a tire", "connects the pump to the flat bicycle tire. Then",
     "pumps until the tire is firm.", ["pumps the seat instead.",
                                       "lets the air out to fill it up."]),
]
_SUBJECTS = [("A man", "he"), ("A woman", "she"), ("A boy", "he"), ("A girl", "she"), ("An old man", "he"),
             ("An old woman", "she"), ("A teenager", "they"), ("My neighbour", "she")]
_N_TRAIN_SCENES = 6  # the last scenes are held out for the few-shot pool


def _verb_they(ending: str) -> str:
    """'pours it over ...' -> 'pour it over ...' (plural subject), first word only."""
    first, _, rest = ending.partition(" ")
    irregular = {"does": "do", "has": "have", "goes": "go", "is": "are"}
    if first in irregular:
        first = irregular[first]
    elif first.endswith(("ches", "shes", "sses", "xes", "zes")):
        first = first[:-2]
    elif first.endswith("ies") and len(first) > 4:
        first = first[:-3] + "y"
    elif first.endswith("s") and not first.endswith("ss"):
        first = first[:-1]
    return f"{first} {rest}".strip()


def _completion_items(scenes, seed: int, n: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    combos = [(s, subj) for s in range(len(scenes)) for subj in range(len(_SUBJECTS))]
    rng.shuffle(combos)
    rows = []
    for s, subj in combos:
        activity, ctx, gold, absurd = scenes[s]
        subject, pron = _SUBJECTS[subj]
        other = scenes[rng.choice([k for k in range(len(scenes)) if k != s])][2]
        endings = [gold, other, *absurd]
        if pron == "they":
            endings = [_verb_they(e) for e in endings]
            ctx_text = f"{subject} {ctx} they"
        else:
            ctx_text = f"{subject} {ctx} {pron}"
        choices, label = _shuffle_choices(rng, endings[0], endings[1:])
        if len(set(choices)) != 4:
            continue
        rows.append({"id": f"{prefix}-{len(rows):03d}", "activity": activity, "ctx": ctx_text,
                     "endings": choices, "label": label})
        if len(rows) == n:
            break
    return rows


def generate_completion_items(n: int, seed: int = SEEDS["completion"], prefix: str = "completion",
                              train: bool = False) -> list[dict]:
    """Scene x subject items; the test items use all scenes but the last ``_N_TRAIN_SCENES``, the
    few-shot pool (``train=True``) only those, so the two share no scene."""
    scenes = _SCENES[-_N_TRAIN_SCENES:] if train else _SCENES[:-_N_TRAIN_SCENES]
    rows = _completion_items(scenes, seed, n, prefix)
    if len(rows) < n:
        raise RuntimeError(f"the scenes give only {len(rows)} completion items (asked for {n})")
    return rows


# ============================================================================ code
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


def generate_code_items(n: int, seed: int = SEEDS["code"], prefix: str = "code") -> list[dict]:
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


# ============================================================================ files
def _math_text(r: dict) -> str:
    return f"{r['question']} {r['answer']}"


def build_all() -> dict[str, list[dict]]:
    """File name -> rows of every course item file (deterministic)."""
    out: dict[str, list[dict]] = {}
    math = generate_math_items(POOL_SIZE, MATH_SEED, "math")
    cand = generate_math_items(TRAIN_SIZE * 20, MATH_SEED + 1, "math-train",
                               exclude={r["question"] for r in math})
    train = _disjoint_pool(cand, TRAIN_SIZE, math, _math_text, lambda r: r["question"])
    out["math.jsonl"] = math
    out["math_train.jsonl"] = [{**r, "id": f"math-train-{i:03d}"} for i, r in enumerate(train)]

    mc = generate_mc_items(POOL_SIZE)
    cand = (dict(r) for r in _mc_candidates(SEEDS["mc"] + 1, "mc-train"))
    train = _disjoint_pool(cand, TRAIN_SIZE, mc, _mc_text, lambda r: r["question"])
    out["mc.jsonl"] = mc
    out["mc_train.jsonl"] = [{"id": f"mc-train-{i:03d}", **r} for i, r in enumerate(train)]

    comp = generate_completion_items(POOL_SIZE)
    comp_text = lambda r: " ".join([r["activity"], r["ctx"], *r["endings"]])  # noqa: E731
    cand = generate_completion_items(TRAIN_SIZE, SEEDS["completion"] + 1, "completion-train", train=True)
    out["completion.jsonl"] = comp
    out["completion_train.jsonl"] = _disjoint_pool(cand, TRAIN_SIZE, comp, comp_text, lambda r: r["ctx"])

    out["code.jsonl"] = generate_code_items(POOL_SIZE)
    return out


def render_all() -> dict[str, str]:
    """File name -> the exact text :func:`write_all` writes."""
    return {name: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            for name, rows in build_all().items()}


def write_all(data_dir: Path = DATA) -> list[Path]:
    """(Re)write every course item file (maintainers: ``python -m resurface.evaluate.itemgen``)."""
    paths = []
    for name, rows in build_all().items():
        write_jsonl(Path(data_dir) / name, rows)
        paths.append(Path(data_dir) / name)
    return paths


def regenerate_math_files(data_dir: Path = DATA) -> None:
    """(Re)write ``math.jsonl`` and ``math_train.jsonl`` from the generator (maintainers only); the
    few-shot pool shares no question and no word 8-gram with the test items (:func:`build_all`)."""
    files = build_all()
    for name in ("math.jsonl", "math_train.jsonl"):
        write_jsonl(Path(data_dir) / name, files[name])


if __name__ == "__main__":
    for p in write_all():
        print(p)

