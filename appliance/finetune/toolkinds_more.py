"""More tool kinds (travel, math and units, shopping, health, finance; the notation is in
:mod:`appliance.finetune.toolkinds`), requests no kind serves, and the value pools.

Values are lower case, as a transcript writes them, and hold no number words (the caller
writes those as digits before the model reads a request).
"""

from __future__ import annotations

from appliance.finetune.toolkinds import KindSpec as K

KINDS_MORE = [
    K("travel", "flights", "search flights|find flights|flight search",
      "Search for flights between two cities.|Find flights.", "origin/from_city/departure:"
      " pick CITIES: Where from; destination/to_city/arrival: pick CITIES: Where to; day/"
      "date: enum DAYS?: Departure day; passengers/adults: int 1..9?=1: How many people; "
      "nonstop/direct: bool nonstop/with stops?=false: Only direct flights; cabin/class: "
      "enum CABINS?=economy: Cabin", "find flights from {origin} to {destination}[ {day}]"
      "[ for {passengers} people]|search for a flight to {destination} from {origin}[ in "
      "{cabin}]|flights from {origin} to {destination}[ {nonstop}]",
      query=True, kw="flight|flights|fly|plane"),
    K("travel", "flight_status", "flight status|check flight|track flight",
      "Whether a flight is on time.|The status of a flight.", "airline/carrier: enum "
      "AIRLINES: The airline; number/flight_number: int 10..9999: The flight number",
      "is {airline} flight {number} on time|what's the status of {airline} flight {number}|"
      "check {airline} {number}", query=True, kw="flight|status|on time|delayed"),
    K("travel", "hotels", "search hotels|find hotel|book hotel",
      "Find a hotel in a city.|Search hotel rooms.", "city/location: pick CITIES: The city;"
      " nights/stay: int 1..14: How many nights; guests/people: int 1..6?=2: Guests; stars/"
      "rating: int 1..5?: Minimum stars", "find a hotel in {city} for {nights} nights[ for "
      "{guests} guests]|book a room in {city} for {nights} nights|hotels in {city} for "
      "{nights} nights[ with {stars} stars]", query=True, kw="hotel|room|stay|nights"),
    K("travel", "car_rental", "rent car|car rental|book rental car",
      "Rent a car.|Book a rental car in a city.", "city/location: pick CITIES: Pick-up "
      "city; days/length: int 1..30: How many days; car_type/category: enum CARS?: Kind of"
      " car", "rent a car in {city} for {days} days|book a {car_type} in {city} for {days}"
      " days|i need a rental car in {city} for {days} days", kw="rent|rental|car"),
    K("travel", "directions", "get directions|navigate|route to",
      "Directions to a place.|Navigate somewhere.", "destination/place/to: text PLACES: "
      "Where to; mode/travel_mode: enum MODES?=driving: How", "directions to {destination}"
      "[ by {mode}]|how do i get to {destination}[ by {mode}]|navigate to {destination}",
      query=True, kw="directions|navigate|route|get to"),
    K("travel", "nearby", "find nearby|search nearby|places near me",
      "Find places of a kind near the user.|What is nearby.", "category/kind: enum "
      "NEARBY: What to find; radius/within_km: int 1..50?: Search radius in kilometers",
      "find {category} near me|are there any {category} nearby|show {category} within "
      "{radius} kilometers", query=True, kw="near|nearby|closest|around"),
    K("travel", "ride", "request ride|book taxi|order ride",
      "Order a ride to a place.|Book a taxi.", "destination/to: text PLACES: Where to; "
      "ride_type/level: enum RIDES?=standard: Kind of ride", "get me a ride to "
      "{destination}|order a {ride_type} ride to {destination}|book a taxi to "
      "{destination}", kw="ride|taxi|cab|uber"),
    K("travel", "restaurant", "book table|reserve restaurant|restaurant booking",
      "Reserve a table at a restaurant.|Book a restaurant.", "restaurant/venue: text "
      "RESTAURANTS: The restaurant; people/party_size: int 1..12: How many; day/date: enum"
      " DAYS?: Which day", "book a table for {people} at {restaurant}[ {day}]|reserve "
      "{restaurant} for {people} people[ {day}]|table for {people} at {restaurant}",
      kw="table|reserve|reservation|restaurant"),
    K("math", "convert_length", "convert length|length units|distance convert",
      "Convert a length between units.|Length unit conversion.", "value/amount: num "
      "1..1000: The length; from_unit/source: enum LENGTH: From; to_unit/target: enum "
      "LENGTH: To", "convert {value} {from_unit} to {to_unit}|how many {to_unit} is "
      "{value} {from_unit}|{value} {from_unit} in {to_unit}", query=True, kw="|".join(
          ("meters", "miles", "feet", "inches", "yards", "kilometers", "centimeters"))),
    K("math", "convert_weight", "convert weight|mass convert|weight units",
      "Convert a weight between units.|Mass unit conversion.", "value/amount: num 1..1000:"
      " The weight; from_unit/source: enum WEIGHT: From; to_unit/target: enum WEIGHT: To",
      "convert {value} {from_unit} to {to_unit}|how many {to_unit} is {value} {from_unit}|"
      "{value} {from_unit} in {to_unit}", query=True,
      kw="grams|kilograms|pounds|ounces|stones|tons"),
    K("math", "convert_volume", "convert volume|volume units|liquid convert",
      "Convert a volume between units.|Volume unit conversion.", "value/amount: num "
      "1..1000: The volume; from_unit/source: enum VOLUME: From; to_unit/target: enum "
      "VOLUME: To", "convert {value} {from_unit} to {to_unit}|how many {to_unit} is {value}"
      " {from_unit}|{value} {from_unit} in {to_unit}",
      query=True, kw="liters|milliliters|cups|gallons|pints|quarts|teaspoons|tablespoons"),
    K("math", "convert_temperature", "convert temperature|temperature units|temp convert",
      "Convert a temperature between scales.|Temperature conversion.", "value/degrees: int"
      " 1..500: The temperature; from_unit/source: enum TEMPS: From; to_unit/target: enum"
      " TEMPS: To", "convert {value} degrees {from_unit} to {to_unit}|what is {value} "
      "{from_unit} in {to_unit}|{value} degrees {from_unit} in {to_unit}",
      query=True, kw="celsius|fahrenheit|kelvin"),
    K("math", "percent_of", "percentage of|percent calc|compute percentage",
      "A percentage of a number.|Work out a percent of a value.", "percent/rate: int "
      "1..100: The percent; value/number: num 1..5000: Of what", "what's {percent} percent"
      " of {value}|calculate {percent} percent of {value}|{percent} percent of {value}",
      query=True, kw="percent"),
    K("math", "factorial", "factorial|compute factorial|math factorial",
      "The factorial of a whole number.|n factorial.", "n/number: int 0..20: The number",
      "what's the factorial of {n}|calculate {n} factorial|factorial of {n}",
      query=True, kw="factorial"),
    K("math", "square_root", "square root|sqrt|compute root",
      "The square root of a number.|Square root.", "number/x: num 0..10000: The number",
      "what's the square root of {number}|square root of {number}|calculate the root of "
      "{number}", query=True, kw="root|sqrt"),
    K("math", "circle_area", "circle area|area of circle|compute circle area",
      "The area of a circle from its radius.|Circle area.", "radius/r: num 1..100: The "
      "radius; unit/units: enum CIRCLE?: Unit of the radius", "area of a circle with "
      "radius {radius}[ {unit}]|what's the area of a circle of radius {radius}|circle area"
      " for radius {radius}[ {unit}]", query=True, kw="circle|area|radius"),
    K("math", "hypotenuse", "hypotenuse|right triangle|pythagoras",
      "The hypotenuse of a right triangle from its two legs.|Pythagorean hypotenuse.",
      "a/leg_a/side1: int 1..200: One leg; b/leg_b/side2: int 1..200: The other leg",
      "hypotenuse of a right triangle with sides {a} and {b}|what's the hypotenuse if the"
      " legs are {a} and {b}|find the long side for {a} and {b}",
      query=True, kw="hypotenuse|triangle"),
    K("math", "gcd", "greatest common divisor|gcd|highest common factor",
      "The greatest common divisor of two numbers.|GCD.", "a/first: int 1..1000: First;"
      " b/second: int 1..1000: Second", "greatest common divisor of {a} and {b}|gcd of {a}"
      " and {b}|what's the highest common factor of {a} and {b}",
      query=True, kw="divisor|gcd|common factor"),
    K("math", "lcm", "least common multiple|lcm|lowest common multiple",
      "The least common multiple of two numbers.|LCM.", "a/first: int 1..1000: First; b/"
      "second: int 1..1000: Second", "least common multiple of {a} and {b}|lcm of {a} and"
      " {b}|what's the lowest common multiple of {a} and {b}", query=True, kw="multiple|lcm"),
    K("math", "is_prime", "is prime|prime check|primality",
      "Whether a number is prime.|Check a number for primality.", "n/number: int "
      "2..10000: The number", "is {n} a prime number|check whether {n} is prime|is {n} "
      "prime", query=True, kw="prime"),
    K("math", "dice", "roll dice|dice roll|random die",
      "Roll dice.|Roll some dice with a number of sides.", "count/dice: int 1..10: How "
      "many dice; sides/faces: int 2..100?=6: Sides per die", "roll {count} dice|roll "
      "{count} dice with {sides} sides|throw {count} dice", query=True, kw="dice|die|roll"),
    K("math", "tip", "split bill|tip calculator|bill split",
      "Split a bill between people with a tip.|Each person's share of a bill.", "total/"
      "amount/bill: num 1..500: The bill; people/ways: int 2..12: How many people; tip/"
      "tip_percent: int 1..30?=15: Tip in percent", "split {total} dollars {people} ways|"
      "divide a {total} dollar bill among {people} people[ with a {tip} percent tip]|"
      "split the bill of {total} between {people}[ and add {tip} percent]",
      query=True, kw="split|tip|bill|share"),
    K("shopping", "order", "order product|buy item|place order",
      "Order a product online.|Buy something online.", "product/item: text PRODUCTS: What"
      " to buy; quantity/count: int 1..20?=1: How many; express/fast: bool with express "
      "shipping/with standard shipping?=false: Fast delivery", "order {product}[ {express}]"
      "|order {quantity} of {product}|buy {product} online[ {express}]",
      kw="order|buy|purchase"),
    K("shopping", "shopping_list", "add to shopping list|shopping list add|grocery add",
      "Put an item on the shopping list.|Add to the grocery list.", "item/product: text "
      "GROCERIES: The item; quantity/count: int 1..12?: How many", "add {item} to the "
      "shopping list|put {item} on my grocery list|add {quantity} {item} to the list",
      group="list_add", kw="shopping|grocery|list"),
    K("shopping", "track", "track package|delivery status|where is package",
      "Where a package is.|Track a delivery.", "carrier/courier: enum CARRIERS: The "
      "carrier", "where's my {carrier} package|track the {carrier} package|when does my"
      " {carrier} delivery come", query=True, kw="package|delivery|parcel|track"),
    K("shopping", "deals", "find deals|search products|price search",
      "Search for a product under a price.|Find deals.", "product/query: text PRODUCTS: "
      "What to find; max_price/budget: int 5..2000?: Highest price in dollars", "find "
      "deals on {product}|look for {product} under {max_price} dollars|cheapest {product}"
      "[ under {max_price} dollars]", query=True, kw="deal|deals|cheapest|price|under"),
    K("health", "water", "log water|track water|drink log",
      "Log glasses of water.|Track water intake.", "glasses/count: int 1..12: How many "
      "glasses", "log {glasses} glasses of water|i drank {glasses} glasses of water|add "
      "{glasses} glasses to my water", kw="water|drank|glasses"),
    K("health", "workout", "log workout|record exercise|add activity",
      "Log a workout.|Record exercise.", "activity/sport: enum ACTIVITIES: The activity; "
      "minutes/duration: int 5..180: How long in minutes", "log a {minutes} minute "
      "{activity} workout|i did {minutes} minutes of {activity}|record {activity} for "
      "{minutes} minutes", kw="workout|exercise|log"),
    K("health", "weight", "log weight|record weight|body weight",
      "Record body weight.|Log today's weight.", "weight/value: num 30..200: The weight;"
      " unit/units: enum BODY?=kilograms: Unit", "log my weight as {weight}[ {unit}]|i "
      "weigh {weight} {unit}|record {weight} {unit} for today", kw="weigh|weight"),
    K("health", "medication", "medication reminder|pill reminder|med schedule",
      "Remind the user to take a medication.|Schedule a pill reminder.", "medication/"
      "drug: text MEDS: The medication; hour/time: int 1..12: The hour", "remind me to "
      "take my {medication} at {hour}|{medication} reminder at {hour}|schedule my "
      "{medication} for {hour}", group="reminder", kw="remind|medication|pill|take my"),
    K("health", "stats", "health stats|get metric|fitness summary",
      "A health metric for a period.|Fitness tracker numbers.", "metric/measure: enum "
      "METRICS: Which metric; period/when: enum PERIODS?=today: Which period", "what was "
      "my {metric} {period}|show my {metric}[ for {period}]|how was my {metric} {period}",
      query=True, kw="steps|heart|sleep|calories|blood|active"),
    K("health", "calories", "food calories|nutrition lookup|calorie count",
      "How many calories a food has.|Nutrition facts.", "food/item: text FOODS: The food",
      "how many calories are in {food}|calories in {food}|what's the nutrition for {food}",
      query=True, kw="calories|nutrition|calorie"),
    K("health", "meditate", "start meditation|breathing exercise|mindfulness",
      "Start a guided meditation.|A breathing session.", "minutes/duration: int 1..60: "
      "How long in minutes", "start a {minutes} minute meditation|guide me through "
      "{minutes} minutes of breathing|meditate for {minutes} minutes",
      kw="meditation|meditate|breathing|mindfulness"),
    K("finance", "balance", "account balance|get balance|check balance",
      "The balance of a bank account.|How much is in an account.", "account/account_type"
      ": enum ACCOUNTS: Which account", "what's my {account} balance|how much is in my "
      "{account} account|check the {account} balance", query=True,
      kw="balance|account|bank"),
    K("finance", "transfer", "transfer money|move funds|bank transfer",
      "Move money between accounts.|Transfer funds.", "amount/sum: num 1..5000: How much;"
      " source/from_account: enum ACCOUNTS: From; target/to_account: enum ACCOUNTS: To",
      "transfer {amount} dollars from {source} to {target}|move {amount} from my {source}"
      " to my {target}|send {amount} dollars from {source} to {target}",
      kw="transfer|move|send|dollars"),
    K("finance", "pay_bill", "pay bill|bill payment|pay utility",
      "Pay a bill.|Pay a utility bill.", "biller/bill: enum BILLERS: Which bill; amount/"
      "sum: num 1..2000?: How much", "pay the {biller} bill|pay {amount} dollars on the "
      "{biller} bill|settle the {biller} bill", kw="pay|bill|bills"),
    K("finance", "spending", "spending summary|get spending|budget report",
      "How much was spent in a category.|Spending by category.", "category/kind: enum "
      "SPEND: The category; period/when: enum SPEND_PERIODS?=this month: The period",
      "how much did i spend on {category}[ {period}]|what's my {category} spending "
      "{period}|show {category} expenses", query=True, kw="spend|spent|spending|expenses"),
    K("finance", "exchange", "convert currency|exchange rate|currency convert",
      "Convert an amount between currencies.|Currency conversion.", "amount/value: num "
      "1..5000: How much; from_currency/source: enum CURRENCIES: From; to_currency/target"
      ": enum CURRENCIES: To", "convert {amount} {from_currency} to {to_currency}|how much"
      " is {amount} {from_currency} in {to_currency}|{amount} {from_currency} to "
      "{to_currency}", kw="currency|exchange|dollars|euros|pounds|yen"),
    K("finance", "loan", "loan payment|mortgage calculator|monthly payment",
      "The monthly payment of a loan.|Loan payment calculator.", "principal/amount: int "
      "1000..900000: The loan; rate/interest: num 1..15: Yearly interest in percent; years"
      "/term: int 1..40: Term in years", "monthly payment on {principal} dollars at {rate}"
      " percent for {years} years|what's the payment for a {principal} loan at {rate} "
      "percent over {years} years", kw="loan|mortgage|payment|interest"),
]
# Requests no kind serves: talk, and questions (which a web search would answer).
SOCIAL = ["hello there", "how are you today", "thanks a lot", "good night", "never mind",
          "what's your name", "tell me a joke", "you're funny", "that's all for now",
          "sing me a song", "let's play a game", "who made you", "i'm bored", "goodbye"]
QUESTIONS = ["who wrote hamlet", "how tall is mount everest", "why is the sky blue",
             "what's the capital of australia", "how many legs does a spider have",
             "who painted the mona lisa", "what is photosynthesis", "how far away is the moon",
             "what's the meaning of life", "when did the second world war end"]

POOLS: dict[str, tuple[str, ...]] = {k: tuple(v.split("|")) for k, v in {
    "ROOMS": "kitchen|living room|bedroom|bathroom|hallway|office|dining room|basement|attic"
             "|guest room|kids room|laundry room|study|nursery|porch|patio|den|sunroom|garage",
    "FLOORS": "upstairs|downstairs",
    "ONOFF": "on|off", "COVER": "open|close", "LOCK": "lock|unlock", "AMPM": "am|pm",
    "COLORS": "red|blue|green|warm white|cool white|purple|orange|pink|yellow|teal|amber",
    "HVAC": "heat|cool|auto|off|eco|dry|fan only", "SPEEDS": "off|low|medium|high",
    "DOORS": "front door|back door|garage door|side door|patio door|basement door|shed door",
    "SUCTION": "quiet|standard|turbo|max", "SECURITY": "away|home|night|vacation|off",
    "ZONES": "front lawn|back lawn|vegetable garden|flower beds|side yard|hedges|orchard",
    "OVEN": "bake|roast|broil|convection|air fry", "SIZES": "small|medium|large",
    "DEVICES": "fan|heater|tv|air purifier|humidifier|dehumidifier|coffee maker|kettle"
               "|speaker|fireplace|projector|monitor|electric blanket",
    "DRINKS": "espresso|latte|cappuccino|americano|flat white|mocha|macchiato|cortado",
    "CAMERAS": "front door|driveway|backyard|garage|nursery|porch|side gate",
    "GADGETS": "phone|tablet|watch|headphones|laptop|earbuds|keys|remote",
    "DOCUMENTS": "the boarding pass|my resume|the tax form|the recipe|the report|the "
                 "invoice|the homework|the tickets",
    "MUSIC": "the beatles|taylor swift|miles davis|daft punk|adele|bob marley|nina simone|"
             "coldplay|bach|fleetwood mac|beyonce|radiohead",
    "GENRES": "jazz|rock|pop|classical|hip hop|country|blues|reggae|folk|metal|soul|"
              "electronic|ambient|punk|disco|latin|funk|gospel",
    "PODCASTS": "the daily|radiolab|planet money|hidden brain|serial|freakonomics|the moth",
    "SPEAKERS": "kitchen speaker|soundbar|bedroom speaker|patio speaker|office speaker",
    "PLAYBACK": "pause|resume|stop|restart",
    "MOVIES": "the matrix|finding nemo|jurassic park|the office|breaking bad|toy story|"
              "planet earth|the crown|stranger things",
    "SERVICES": "netflix|hulu|disney plus|prime video|youtube|apple tv",
    "PLAYLISTS": "workout|chill|road trip|dinner party|focus|sleep|party|favorites",
    "LANGUAGES": "spanish|french|german|italian|portuguese|japanese|chinese|korean|dutch|"
                 "swedish|polish|greek|turkish|arabic|hindi|russian|english",
    "EVENTS": "dentist appointment|team meeting|lunch with sam|yoga class|book club|"
              "parent teacher meeting|dinner with the smiths|piano lesson",
    "DAYS": "today|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday",
    "CONTACTS": "mom|dad|alice|bob|sarah|james|grandma|uncle tom|maria|kevin|priya|my boss",
    "SUBJECTS": "the project update|dinner plans|the invoice|the school play|the budget|"
                "the weekend trip",
    "MESSAGES": "i'm running late|dinner is ready|call me back|see you soon|happy birthday|"
                "i'm on my way|the meeting moved",
    "NOTES": "buy a new lamp|the wifi password is on the fridge|ideas for the garden|call "
             "the plumber about the leak|the car needs new tires|book the vet",
    "TASKS": "call the dentist|pick up the dry cleaning|water the plants|take out the trash"
             "|pay the rent|renew my passport|feed the cat|return the library books",
    "LISTS": "work|home|errands|school|garden|weekend", "REPEAT": "once|daily|weekdays|weekends",
    "TIMER_LABELS": "pasta|eggs|laundry|pizza|cookies|tea|homework",
    "CITIES": "paris|london|tokyo|berlin|madrid|rome|chicago|boston|seattle|denver|toronto|"
              "sydney|dublin|lisbon|vienna|prague|oslo|cairo|mumbai|seoul|lima|austin|miami|"
              "athens|zurich|nairobi|bangkok|istanbul|montreal|amsterdam",
    "TEMP_UNITS": "celsius|fahrenheit", "SUN": "sunrise|sunset|dawn|dusk",
    "COMPANIES": "apple|tesla|microsoft|amazon|google|nvidia|netflix|intel|nike|disney|"
                 "boeing|ford|coca cola|starbucks|adobe|pfizer|visa",
    "COINS": "bitcoin|ethereum|solana|dogecoin|litecoin|cardano",
    "PHRASES": "good morning|where is the train station|thank you very much|how much does "
               "this cost|i would like a coffee|nice to meet you|where is the bathroom|i am"
               " lost",
    "WORDS": "serendipity|ephemeral|ubiquitous|quixotic|melancholy|resilient|paradox|"
             "eloquent|meticulous|nostalgia",
    "QUERIES": "how to tie a tie|banana bread recipe|history of the roman empire|how to fix"
               " a leaky faucet|when was the eiffel tower built|how do bees make honey",
    "TOPICS": "sports|business|technology|science|politics|health|entertainment|world",
    "CABINS": "economy|premium economy|business|first class",
    "AIRLINES": "united|delta|lufthansa|british airways|air france|emirates|qantas|klm",
    "CARS": "compact|suv|minivan|luxury car|convertible|pickup|electric car",
    "MODES": "driving|walking|transit|cycling",
    "PLACES": "the airport|the train station|downtown|central park|the mall|the hospital|"
              "the stadium|the museum",
    "NEARBY": "restaurants|gas stations|pharmacies|coffee shops|atms|parking|supermarkets|"
              "bakeries|hardware stores|ev chargers",
    "RIDES": "standard|xl|comfort|shared|black",
    "RESTAURANTS": "luigi's|the golden dragon|blue fin sushi|casa maria|the corner bistro|"
                   "taj palace|burger barn",
    "LENGTH": "meters|kilometers|miles|feet|inches|centimeters|yards|millimeters",
    "WEIGHT": "grams|kilograms|pounds|ounces|stones|tons",
    "VOLUME": "liters|milliliters|cups|gallons|pints|quarts|teaspoons|tablespoons",
    "TEMPS": "celsius|fahrenheit|kelvin", "CIRCLE": "centimeters|meters|inches|feet",
    "PRODUCTS": "paper towels|batteries|dog food|shampoo|printer ink|coffee beans|a phone "
                "charger|running shoes|light bulbs|laundry detergent",
    "GROCERIES": "milk|eggs|bread|bananas|butter|rice|apples|cheese|tomatoes|yogurt|spinach"
                 "|pasta|olive oil",
    "CARRIERS": "ups|fedex|usps|dhl", "BODY": "kilograms|pounds",
    "ACTIVITIES": "running|cycling|swimming|walking|yoga|rowing|hiking|pilates|boxing",
    "MEDS": "vitamin d|ibuprofen|allergy pills|blood pressure pills|antibiotics|fish oil",
    "METRICS": "steps|heart rate|sleep|calories burned|blood pressure|active minutes",
    "PERIODS": "today|yesterday|this week|last week|this month",
    "FOODS": "bananas|brown rice|avocado toast|greek yogurt|peanut butter|oatmeal|a bagel",
    "ACCOUNTS": "checking|savings|credit card|brokerage|joint|business",
    "BILLERS": "electric|water|internet|phone|gas|cable|insurance|trash",
    "SPEND": "groceries|dining|travel|entertainment|utilities|shopping|transport|health",
    "SPEND_PERIODS": "this week|this month|last month|this year",
    "CURRENCIES": "dollars|euros|pounds|yen|swiss francs|canadian dollars|pesos|rupees|yuan"
                  "|won|australian dollars|kroner",
}.items()}
