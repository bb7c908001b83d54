"""The parser's word lists: role nouns, context words, negation cues, idioms and name classes.

Everything here is hand-written and small; the colour names themselves are in ``data/``. Multi-word
entries are written with spaces and matched on whole tokens.
"""
from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in text.split(",") if p.strip())


# Basic colour terms: the second word of a compound ("wine red") and the hue of "-ish" words.
BASIC = _words("red orange yellow green blue purple pink brown black white grey gray")

# Colour words that mean a colour and little else: in product text they count next to an object noun
# ("red dress"). Everything else in CSS4/XKCD is an AMBIGUOUS name there (needs explicit colour context).
COLOUR_WORDS = (BASIC - {"orange"}) | _words("""navy teal turquoise magenta cyan maroon indigo violet beige crimson
scarlet fuchsia burgundy khaki taupe mauve lilac aquamarine chartreuse vermilion vermillion cerulean ultramarine
ochre sepia periwinkle ecru puce aqua azure cobalt greenish bluish reddish pinkish purplish yellowish brownish
greyish grayish""")

# Ambiguous colour names that are also the head of multi-word colour names ("rose gold", "dusty rose").
HEAD_WORDS = COLOUR_WORDS | _words("""orange gold silver rose cream ivory tan olive lime mint coral salmon peach
plum wine sand bronze copper blush lavender emerald jade ruby sapphire amber charcoal slate rust brick mustard
lemon cherry berry chocolate coffee caramel honey khaki stone""")

# CSS4/XKCD single words that are first of all everyday nouns: even in the style they need a cue (a role
# noun, "on ...", a colour word) to count, e.g. "turquoise waves on sand" but not "summer vibes, ocean breeze".
NOUN_FIRST = _words("""sky ocean sea forest grass earth sand stone ice night blood mud moss leaf tree tea coffee
snow fire sun water rain cloud clouds spring wheat honey cherry lemon lime banana tomato grape mango apple pear
avocado kiwi melon pumpkin orange peach plum raspberry strawberry blueberry cranberry berry chocolate caramel
cocoa butter cream milk wine beer whiskey denim camel linen silk cotton leather wood bark brick cement concrete
steel iron gold silver copper bronze tin lead rust clay chalk ash smoke shadow ink coal charcoal pine spruce
rose lavender lilac orchid thistle tulip daffodil poppy sunflower violet heather sage mint basil olive herb
money dirt poop puke vomit baby army key""") - COLOUR_WORDS - _words("""gold silver rose lavender lilac sage
mint olive violet peach plum orange cream charcoal""")

# Keys that only the other languages' tables give (service/understanding/i18n.py); no English word has them.
UNDER = "~under"  # after a ground (黒地に金, 바탕에, 黑色上的金色): the colour before it is the ground
TOPIC = "~is"  # a topic or case particle: 背景は黒, 별은 금색, 背景是黑色
COLOUR_NOUN = "~colour"  # 色, 颜色, لون, couleur, Farbe: "background in the colour X", "X in colour"
POST_NEGATION = "~without"  # a negation after its colour: 赤なし, 빨간색 없이, Gelb vermeiden
IDIOM = "~idiom"  # one token for a whole expression that gives no colour (蓝牙, vin rouge)
MATERIAL = "~material"  # a material or cut between a colour and its noun (真皮, جلدية, en cuir): a filler

# Tone modifiers (learned offsets in data/modifiers.json) are looked up there; these are only intensifiers.
INTENSIFIERS = _words("very really super extra quite rather slightly")

GROUND_NOUNS = _words("background backgrounds backdrop backdrops bg gradient gradients canvas wall walls wallpaper")
MOTIF_NOUNS = _words("""confetti bokeh dot dots polka stripe stripes line lines circle circles shape shapes wave waves
sparkle sparkles light lights star stars heart hearts triangle triangles square squares blob blobs particle
particles glitter balloon balloons leaf leaves petal petals flower flowers cloud clouds snowflake snowflakes
lightning streak streaks splash splashes brushstroke brushstrokes stroke strokes drop drops droplet droplets ray
rays beam beams swirl swirls ribbon ribbons thread threads stitching check checks plaid grid hexagon hexagons curve
curves ring rings bubble bubbles streamer streamers firework fireworks orb orbs glow pattern patterns motif motifs
element elements icon icons illustration illustrations graphic graphics doodle doodles ornament ornaments
bauble baubles sprinkle sprinkles speck specks speckle speckles spot spots zigzag zigzags chevron chevrons
geometry splatter splatters neon""")
ACCENT_NOUNS = _words("accent accents highlight highlights detail details trim text type lettering logo border")
OBJECT_NOUNS = _words("""dress dresses shirt shirts tshirt tee tees top tops blouse blouses jacket jackets coat coats
hoodie hoodies sweater sweaters jumper jumpers cardigan cardigans jeans trousers pants chinos shorts skirt skirts
leggings suit suits blazer blazers polo gown gowns jumpsuit romper kimono bikini swimsuit shoes shoe sneakers
sneaker trainers boots boot heels sandals loafers slippers bag bags handbag handbags backpack backpacks purse
wallet hat hats cap caps beanie scarf scarves socks gloves belt belts watch watches strap case cover mug mugs cup
cups bottle bottles lamp lamps chair chairs sofa sofas couch table tables rug rugs curtain curtains pillow pillows
cushion cushions blanket blankets throw towel towels sheets bedding duvet vase vases plate plates bowl bowls
headphones earbuds speaker speakers keyboard mouse laptop phone bike bicycle car umbrella suitcase luggage necklace
bracelet earrings ring frame glasses sunglasses pen notebook tie kettle toaster blender raincoat parka vest apron
mat candle planter pot pan tray stool bench desk shelf cabinet dresser headband bandana collar leash tent""")
# Materials, finishes and the like, skipped between a colour and its noun ("black leather boots").
FILLERS = _words("""leather suede velvet cotton silk satin linen wool woollen knit knitted denim canvas ceramic glass
metal wooden wood bamboo matte matt glossy gloss metallic shiny plain solid classic slim fit oversized cropped long
short midi maxi mini floral striped printed faux vegan organic waterproof mens men's womens women's kids unisex
ankle high low chunky soft rounded large small big little stainless""") | {MATERIAL}

# Words that may follow an object noun that heads its phrase ("red dress for women", "red dress, size M");
# any other word means the noun is a modifier of something else ("Blue Apron meal kit", "Red Hat Linux").
AFTER_HEAD = _words("""is are was has have had features featuring made set pack kit size sizes for with in of by from
that which and or to on at men women men's women's mens womens kids girls boys ladies unisex xs s m l xl xxl small
medium large new sale""")
# Words after a hyphen that keep a colour a colour ("gold-foil", "red-striped"); other hyphenated words make an
# idiom of it ("red-letter", "blue-collar", "white-label").
HYPHEN_OK = _words("""foil striped stripe dotted dot toned tone coloured colored colour color tinted tint plated
washed dyed hued ish y""")
DETERMINERS = _words("a an the some solid plain flat simple pure any")
GROUND_PREPOSITIONS = _phrases("on, over, against, atop, upon, onto, on top of, across, set against")
# Between a ground noun and its colour: "background in navy", "background: navy", "backdrop of deep green".
GROUND_LINKS = _words("in of is be should must colour color colored coloured : = - a an the solid plain flat") | {
    TOPIC, COLOUR_NOUN}
MOTIF_LINKS = _words("in of :") | {TOPIC}
COORDINATORS = _words("and or nor , / plus n with")  # "with" only inside a colour list, see grammar
CLAUSE_BREAKS = frozenset({";", ".", "!", "?", "|", "\n", "(", ")", "[", "]", ">", "<"})

# Explicit colour context. Left: "in salmon", "colour: coral"; right: "coral-coloured", "coral tones".
CONTEXT_LEFT = _words("in colour color colours colors colourway colorway shade shades hue hues tone tones finish") | {
    COLOUR_NOUN}
CONTEXT_RIGHT = _words("""colour color coloured colored colours colors tone toned tones hue hues shade shades tint
tinted""") | {COLOUR_NOUN}
CONTEXT_SKIP = _words(": of a an the matte matt glossy gloss metallic deep")

NEGATIONS = _phrases("""no, not, without, avoid, avoiding, except, excluding, never, nothing, minus, sans, non,
anything but, everything but, anything except, free of, no more, do not use, don't use, dont use, not in, ban""")
# Words a negation may skip before its colour: "without any blue", "avoid using yellow".
NEGATION_SKIP = _words("""any more the a too use using of shades shade tones tone hint hints trace traces kind kinds
type types colour color colours colors much lot lots overly heavy""") | {COLOUR_NOUN, TOPIC}
# Between a colour and a negation that follows it: "赤はなし" (red: none).
POST_NEGATION_SKIP = frozenset({TOPIC, COLOUR_NOUN, "the"})

# Phrases made of colour names that are not colours of an ad; matched first, everywhere (style included).
# Rule for events and idioms: "Black Friday sale style" gives no black; art direction must name the colour.
IDIOMS = _phrases("""black friday, cyber monday, red wine, white wine, rose wine, green tea, black tea, white tea,
iced tea, olive oil, salmon fillet, salmon fillets, smoked salmon, chocolate cake, chocolate bar, dark chocolate,
milk chocolate, white chocolate, hot chocolate, coral reef, coral reefs, pink floyd, white castle, orange county,
orange juice, lemon juice, lime juice, red bull, green day, red hot chili peppers, red hot, black mirror, black tie,
white tie, red carpet, golden age, golden globe, golden globes, go green, going green, green living, green energy,
green light, green card, white noise, white label, white paper, white house, black hole, black metal, black market,
black belt, blue chip, blue cheese, blue collar, white collar, blue moon, blue monday, red flag, red tape, in the red,
in the black, silver screen, silver spring, silver lining, silver medal, gold medal, bronze medal, gold standard,
gold member, gold membership, gold plan, gold tier, silver tier, platinum tier, navy seal, navy seals, old navy,
ivory coast, ivory tower, yellow pages, golden retriever, golden state, golden gate, black eyed peas, black pepper,
white pepper, brown sugar, brown rice, white rice, white bread, brown bread, red meat, white meat, black beans,
green beans, red onion, red velvet cake, red cross, green party, black lives matter, pink slip, black box, white
board, red eye, purple heart, grey area, gray area, silver fox, rose bowl, cherry pick, cherry picked, ice cream,
cream cheese, sour cream, whipped cream, sterling silver, honey mustard, white space, the blues, feeling blue,
rhythm and blues, red sox, white sox, blue jays, red wings, red planet, blue ray, blu ray, blue tooth,
red dead, white walker, black panther, green lantern, green arrow, pink panther, orange is the new black,
baby blues, true blue, once in a blue moon, red letter day, green with envy, tickled pink, golden hour""")
