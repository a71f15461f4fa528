"""Course completion items (the HellaSwag stand-in): everyday scenes x subjects, one sensible ending
and three wrong ones (the sensible ending of another scene, and two that break the scene's logic).
"""

from __future__ import annotations

import random

from resurface.evaluate.itemrules import shuffle_choices

SEED = 4201


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
        choices, label = shuffle_choices(rng, endings[0], endings[1:])
        if len(set(choices)) != 4:
            continue
        rows.append({"id": f"{prefix}-{len(rows):03d}", "activity": activity, "ctx": ctx_text,
                     "endings": choices, "label": label})
        if len(rows) == n:
            break
    return rows


def generate_completion_items(n: int, seed: int = SEED, prefix: str = "completion",
                              train: bool = False) -> list[dict]:
    """Scene x subject items; the test items use all scenes but the last ``_N_TRAIN_SCENES``, the
    few-shot pool (``train=True``) only those, so the two share no scene."""
    scenes = _SCENES[-_N_TRAIN_SCENES:] if train else _SCENES[:-_N_TRAIN_SCENES]
    rows = _completion_items(scenes, seed, n, prefix)
    if len(rows) < n:
        raise RuntimeError(f"the scenes give only {len(rows)} completion items (asked for {n})")
    return rows
