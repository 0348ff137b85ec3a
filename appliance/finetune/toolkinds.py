"""The kinds of tool that :mod:`appliance.finetune.toolsets` draws its tool sets from.

Written for this repository, from no benchmark. Each kind is one function a tool can have
(turn a room's light on or off, convert lengths, find flights), stated compactly:

- ``names``: ``|``-separated ways to name it, words apart (styled snake_case or camelCase);
- ``descs``: ``|``-separated descriptions;
- ``params``: ``;``-separated ``names: kind: description``, where ``names`` are
  ``/``-separated alternatives (the first is the key the phrasings use) and ``kind`` is
  ``enum POOL`` (a subset of a value pool), ``text POOL`` (free text, refilled from the
  pool), ``pick POOL`` (either), ``int LO..HI``, ``num LO..HI`` or ``bool YES/NO`` (what a
  phrasing says for true and false), then ``?`` if optional and ``=VALUE`` for a default;
- ``says``: ``|``-separated phrasings, ``{key}`` where a value goes, ``[...]`` around what
  an optional value brings;
- ``group``: kinds that could serve each other's requests share one and never meet in a
  set; ``kw``: words whose presence means a request may be this kind's; ``query``: it
  answers a question; ``catch_all``: it answers any question (so no question is refused).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindSpec:
    """One tool kind, as written below (see the module docstring for the fields)."""

    domain: str
    key: str
    names: str
    descs: str
    params: str
    says: str
    group: str = ""
    kw: str = ""
    query: bool = False
    catch_all: bool = False


K = KindSpec
KINDS = [
    K("home", "light_power", "set light|switch light|toggle lights|light power",
      "Turn the light in a room on or off.|Switch a room's lights on or off.",
      "room/area/location: enum ROOMS: The room; state/power: enum ONOFF: on or off",
      "turn {state} the {room} light|switch the {room} lights {state}|{room} light {state}"
      "|can you turn the light in the {room} {state}", ),
    K("home", "light_level", "set brightness|dim light|light level",
      "Set how bright a room's lights are, in percent.|Dim or brighten the lights in a room.",
      "room/area: enum ROOMS: The room; level/brightness/percent: int 0..100: Brightness in "
      "percent", "dim the {room} light to {level} percent|set the {room} lights to {level} "
      "percent|make the light in the {room} {level} percent", kw="dim|brightness|bright"),
    K("home", "light_color", "set light color|light colour|change light color",
      "Change the color of a room's lights.|Set the light color in a room.",
      "room/area: enum ROOMS: The room; color/colour/hue: enum COLORS: The color",
      "make the {room} light {color}|change the {room} lights to {color}|set the light in "
      "the {room} to {color}", kw="color|colour"),
    K("home", "thermostat", "set thermostat|set temperature|climate target",
      "Set the thermostat's target temperature.|Change the heating or cooling set point.",
      "temperature/degrees/target_temp: int 16..30: Target in degrees celsius; zone/floor: "
      "enum FLOORS?: Which zone", "set the thermostat to {temperature} degrees[ "
      "{zone}]|make it {temperature} degrees[ {zone}]|heat the house to {temperature} "
      "degrees", kw="thermostat|warmer|cooler"),
    K("home", "hvac_mode", "set hvac mode|climate mode|set heating mode",
      "Set the heating and cooling mode.|Switch the climate system's mode.",
      "mode/hvac_mode: enum HVAC: The mode", "switch the heating to {mode} mode|put the "
      "climate system on {mode}|set the hvac mode to {mode}", kw="hvac|mode|heating"),
    K("home", "fan", "set fan speed|ceiling fan|fan control",
      "Set a room's ceiling fan speed.|Change how fast the fan in a room runs.",
      "room/area: enum ROOMS: The room; speed/level: enum SPEEDS: Fan speed",
      "set the {room} fan to {speed}|turn the fan in the {room} to {speed}|{room} fan "
      "{speed}", kw="fan"),
    K("home", "blinds", "move blinds|set cover|window blinds|shades",
      "Open or close the blinds in a room.|Raise or lower a room's shades.",
      "room/area: enum ROOMS: The room; action/command: enum COVER: open or close",
      "{action} the {room} blinds|{action} the blinds in the {room}|can you {action} the "
      "shades in the {room}", kw="blinds|shades|curtains"),
    K("home", "door_lock", "lock door|set lock|door lock",
      "Lock or unlock a door.|Control the smart locks on the doors.",
      "door/lock_name: enum DOORS: Which door; action/state: enum LOCK: lock or unlock",
      "{action} the {door}|please {action} the {door}|can you {action} the {door}",
      kw="lock|unlock|locked"),
    K("home", "vacuum", "start vacuum|clean room|robot vacuum",
      "Send the robot vacuum to clean a room.|Vacuum one room with the robot.",
      "room/area: enum ROOMS: The room to clean; mode/power: enum SUCTION?=standard: "
      "Suction power", "vacuum the {room}[ on {mode}]|clean the {room} with the robot|send "
      "the robot vacuum to the {room}[ on {mode}]", kw="vacuum|clean|robot"),
    K("home", "security", "set security mode|arm alarm system|security system",
      "Arm or disarm the house security system.|Set the security system's mode.",
      "mode/state: enum SECURITY: The mode", "set the security system to {mode}|put security "
      "in {mode} mode|switch the alarm system to {mode}", kw="security|arm|disarm"),
    K("home", "sprinklers", "water zone|run sprinklers|irrigation",
      "Water a garden zone for some minutes.|Run the sprinklers on one zone.",
      "zone/area: enum ZONES: Zone to water; minutes/duration: int 1..60: How long, in "
      "minutes", "water the {zone} for {minutes} minutes|run the sprinklers on the {zone} "
      "for {minutes} minutes|turn on irrigation for the {zone} for {minutes} minutes",
      kw="water|sprinkler|sprinklers|irrigation"),
    K("home", "oven", "preheat oven|set oven|oven start",
      "Preheat the oven to a temperature.|Turn the oven on at a temperature.",
      "temperature/degrees: int 200..500: Degrees fahrenheit; mode/program: enum OVEN?=bake: "
      "Cooking mode", "preheat the oven to {temperature} degrees|set the oven to "
      "{temperature}[ on {mode}]|heat the oven to {temperature} degrees[ on {mode}]",
      kw="oven|preheat|bake"),
    K("devices", "power", "set power|switch device|plug power|device power",
      "Turn a device on or off.|Switch a smart plug's device on or off.",
      "device/appliance/plug: enum DEVICES: The device; state/power: enum ONOFF: on or off",
      "turn {state} the {device}|switch the {device} {state}|can you turn the {device} "
      "{state}", kw="|".join(("fan", "heater", "tv", "purifier", "kettle", "speaker",
                               "humidifier", "projector", "fireplace", "coffee maker"))),
    K("devices", "coffee", "make coffee|brew drink|coffee machine",
      "Make a drink on the coffee machine.|Brew a coffee drink.",
      "drink/beverage: enum DRINKS: The drink; size/cup: enum SIZES?=medium: Cup size",
      "make me a {drink}|brew a {size} {drink}|i'd like a {drink}[ in {size}]",
      kw="coffee|espresso|latte|brew"),
    K("devices", "camera", "show camera|camera feed|view camera",
      "Show a security camera's live view.|Open the live feed of a camera.",
      "camera/feed: enum CAMERAS: The camera", "show me the {camera} camera|open the "
      "{camera} camera feed|what does the {camera} camera see", kw="camera|feed"),
    K("devices", "find_gadget", "find device|ring device|locate gadget",
      "Make a lost device ring so it can be found.|Locate one of your devices.",
      "device/gadget: enum GADGETS: The device; loud/max_volume: bool loudly/quietly?: "
      "Ring at full volume", "find my {device}|ring my {device}[ {loud}]|where is my "
      "{device}", kw="find|ring|locate|where"),
    K("devices", "battery", "get battery level|battery status|check battery",
      "Say how much battery a device has left.|A device's battery level.",
      "device/gadget: enum GADGETS: The device", "how much battery does my {device} have|"
      "what's the battery on my {device}|check my {device} battery", kw="battery|charge",
      query=True),
    K("devices", "dnd", "do not disturb|set focus mode|quiet mode",
      "Turn do not disturb on or off.|Silence notifications for a while.",
      "enabled/on: bool turn on/turn off: On or off; minutes/duration: int 5..240?: How "
      "long, in minutes", "{enabled} do not disturb[ for {minutes} minutes]|{enabled} "
      "quiet mode", kw="disturb|quiet|notifications"),
    K("devices", "print", "print document|send to printer|printer job",
      "Print a document.|Send a document to the printer.",
      "document/file: text DOCUMENTS: What to print; copies/count: int 1..20?=1: Number of "
      "copies; color/in_color: bool in color/in black and white?=false: Print in color",
      "print {document}[ {color}]|print {copies} copies of {document}|send {document} to the "
      "printer[ {color}]", kw="print|printer|copies"),
    K("devices", "car_climate", "precondition car|car climate|warm up car",
      "Heat or cool the car before a drive.|Set the car's cabin temperature remotely.",
      "temperature/degrees: int 16..28: Cabin degrees celsius", "warm up the car to "
      "{temperature} degrees|set the car to {temperature} degrees|get the car cabin to "
      "{temperature} degrees", kw="car|cabin|vehicle"),
    K("devices", "car_charge", "set charge limit|car charging|charge limit",
      "Set the electric car's charge limit.|Change how far the car charges.",
      "limit/percent: int 50..100: Charge limit in percent", "set the car charge limit to "
      "{limit} percent|charge the car to {limit} percent|limit charging to {limit} percent",
      kw="charge|charging|car"),
    K("media", "play_music", "play music|play song|music play",
      "Play a song, an artist or an album.|Start music by name.",
      "query/song/artist: text MUSIC: What to play; room/speaker: enum ROOMS?: Where; "
      "shuffle: bool on shuffle/in order?=false: Shuffle", "play {query}[ in the {room}]|"
      "put on some {query}[ {shuffle}]|i want to hear {query}", group="play",
      kw="play|music|song|listen"),
    K("media", "radio", "play radio|tune station|radio station",
      "Play a radio station by genre.|Tune in a genre station.",
      "genre/station: enum GENRES: The genre", "play {genre} radio|put on a {genre} "
      "station|tune in to {genre} radio", group="play", kw="radio|station|play"),
    K("media", "podcast", "play podcast|podcast episode|latest episode",
      "Play the latest episode of a podcast.|Start a podcast.",
      "show/podcast: text PODCASTS: The podcast", "play the latest episode of {show}|put "
      "on the {show} podcast|start {show} podcast", group="play",
      kw="podcast|episode|play"),
    K("media", "volume", "set volume|volume level|speaker volume",
      "Set the speaker volume, in percent.|Change how loud the music is.",
      "level/volume/percent: int 0..100: Volume in percent; speaker/device: enum "
      "SPEAKERS?: Which speaker", "set the volume to {level} percent[ on the {speaker}]|"
      "volume {level} percent|turn the {speaker} to {level} percent",
      kw="volume|louder|quieter|loud"),
    K("media", "playback", "control playback|media control|player command",
      "Pause, resume, stop or restart what is playing.|Control the media player.",
      "action/command: enum PLAYBACK: What to do", "{action} the music|{action} playback|"
      "{action} what's playing", kw="pause|resume|stop|restart|playback|skip"),
    K("media", "watch", "play video|watch show|stream title",
      "Play a movie or a show on a streaming service.|Stream a title.",
      "title/show: text MOVIES: The movie or show; service/app: enum SERVICES?: Where",
      "watch {title}[ on {service}]|stream {title}[ on {service}]|put {title} on the tv",
      group="video", kw="watch|stream|movie|show"),
    K("media", "channel", "change channel|tv channel|tune channel",
      "Switch the tv to a channel number.|Change the television channel.",
      "channel/number: int 1..999: The channel number", "put on channel {channel}|switch "
      "the tv to channel {channel}|go to channel {channel}", group="video",
      kw="channel|tv|television"),
    K("media", "subtitles", "set subtitles|captions|toggle subtitles",
      "Turn subtitles on or off.|Show or hide captions.",
      "enabled/on: bool turn on/turn off: On or off; language/lang: enum LANGUAGES?: Which "
      "language", "{enabled} subtitles[ in {language}]|{enabled} the captions",
      kw="subtitles|captions"),
    K("media", "playlist_add", "add to playlist|save song|playlist add",
      "Add a song to a playlist.|Save a song in one of the playlists.",
      "song/track: text MUSIC: The song; playlist/list: enum PLAYLISTS: The playlist",
      "add {song} to my {playlist} playlist|save {song} to the {playlist} playlist|put "
      "{song} on {playlist}", kw="playlist"),
    K("productivity", "create_event", "create event|add calendar event|schedule meeting",
      "Add an event to the calendar.|Schedule something on the calendar.",
      "title/summary: text EVENTS: What it is; day/date: enum DAYS: Which day; hour/time: "
      "int 1..12?: The hour; minutes/duration: int 15..240?=60: Length in minutes",
      "add {title} to my calendar for {day}|schedule {title} for {day}[ at {hour}]|put "
      "{title} on the calendar {day}[ for {minutes} minutes]",
      kw="calendar|schedule|event|meeting"),
    K("productivity", "list_events", "list events|get schedule|calendar agenda",
      "Say what is on the calendar for a day.|Read out a day's events.",
      "day/date: enum DAYS: Which day", "what's on my calendar {day}|do i have anything "
      "{day}|read my schedule for {day}", query=True,
      kw="calendar|schedule|agenda|events|meetings"),
    K("productivity", "email", "send email|compose email|email",
      "Send an email.|Write and send an email to a contact.",
      "to/recipient: text CONTACTS: Who it is for; subject/topic: text SUBJECTS: What it "
      "is about; urgent/important: bool marked urgent/as normal?=false: Flag it",
      "email {to} about {subject}|send an email to {to} about {subject}[ {urgent}]|write "
      "{to} an email about {subject}", kw="email|mail"),
    K("productivity", "message", "send message|send text|text contact",
      "Send a text message.|Text a contact.", "to/contact: text CONTACTS: Who; message/"
      "body/text: text MESSAGES: What to say", "text {to} {message}|send a message to {to}"
      " saying {message}|tell {to} that {message}", kw="text|message|tell"),
    K("productivity", "call", "call contact|phone call|dial",
      "Phone a contact.|Start a phone call.", "contact/name: text CONTACTS: Who to call; "
      "speaker/on_speaker: bool on speaker/on the handset?=false: Use the speaker",
      "call {contact}[ {speaker}]|phone {contact}|ring {contact}[ {speaker}]",
      kw="call|phone|dial|ring"),
    K("productivity", "note", "create note|take note|save note",
      "Save a note.|Write a note down.", "text/content/note: text NOTES: The note",
      "take a note {text}|make a note that {text}|write down {text}",
      kw="note|write down"),
    K("productivity", "reminder", "create reminder|remind me|add reminder",
      "Set a reminder.|Remind the user of something later.",
      "task/what: text TASKS: What to remember; day/date: enum DAYS?: Which day; hour/time:"
      " int 1..12?: The hour", "remind me to {task}[ {day}]|set a reminder to {task}[ at "
      "{hour}]|don't let me forget to {task}", group="reminder", kw="remind|reminder|forget"),
    K("productivity", "todo", "add todo|add task|todo list",
      "Add a task to a to-do list.|Put an item on one of the to-do lists.",
      "item/task: text TASKS: The task; list/list_name: enum LISTS?=home: Which list",
      "add {item} to my {list} list|put {item} on the {list} to do list|new task {item}",
      group="list_add", kw="todo|task|to do"),
    K("productivity", "timer", "set timer|start timer|countdown",
      "Start a countdown timer.|Set a timer for some minutes.",
      "minutes/duration/length: int 1..120: Length in minutes; label/name: text "
      "TIMER_LABELS?: What it is for", "set a timer for {minutes} minutes[ for the {label}]"
      "|start a {minutes} minute timer|timer {minutes} minutes[ for the {label}]",
      kw="timer|countdown"),
    K("productivity", "alarm", "set alarm|wake up alarm|create alarm",
      "Set an alarm.|Wake the user at a time.", "hour/time: int 1..12: The hour; period/"
      "ampm: enum AMPM: am or pm; repeat/days: enum REPEAT?=once: How often",
      "set an alarm for {hour} {period}[ {repeat}]|wake me up at {hour} {period}|alarm at "
      "{hour} {period}[ {repeat}]", kw="alarm|wake"),
    K("web", "weather", "get weather|current weather|weather now",
      "Get the current weather for a city.|Current conditions in a place.",
      "city/location/place: pick CITIES: The city; units/unit: enum TEMP_UNITS?=celsius: "
      "Temperature units", "what's the weather in {city}[ in {units}]|how's the weather in "
      "{city}|is it raining in {city}", group="weather", query=True,
      kw="weather|raining|rain|sunny|forecast"),
    K("web", "forecast", "get forecast|weather forecast|forecast days",
      "The weather forecast for the coming days.|A city's forecast.",
      "city/location: pick CITIES: The city; days/count: int 1..10?=3: How many days",
      "what's the forecast for {city}|give me the {days} day forecast for {city}|forecast "
      "for {city} for {days} days", group="weather", query=True,
      kw="weather|forecast|rain"),
    K("web", "air_quality", "get air quality|air quality index|pollution level",
      "The air quality index for a city.|How polluted the air is in a place.",
      "city/location: pick CITIES: The city", "what's the air quality in {city}|how's the "
      "pollution in {city}|is the air clean in {city}", query=True,
      kw="air|pollution|smog"),
    K("web", "sun_times", "sun times|get sunrise|daylight times",
      "When the sun rises or sets in a city.|Sunrise and sunset times.",
      "event/which: enum SUN: Which event; city/location: pick CITIES: The city",
      "when is {event} in {city}|what time is {event} in {city}|tell me {event} for {city}",
      query=True, kw="sunrise|sunset|dawn|dusk|sun"),
    K("web", "world_clock", "world clock|local time|time in city",
      "The local time in a city.|What time it is somewhere.", "city/location: pick CITIES:"
      " The city", "what time is it in {city}|current time in {city}|tell me the time in "
      "{city}", query=True, kw="time|clock"),
    K("web", "stocks", "stock price|get quote|share price",
      "The latest share price of a company.|A stock quote.", "company/symbol/stock: enum "
      "COMPANIES: The company", "what's {company} stock at|how is {company} trading|get the"
      " share price of {company}", query=True, kw="stock|share|shares|trading|market"),
    K("web", "crypto", "crypto price|coin price|get crypto quote",
      "The price of a cryptocurrency.|What a coin is worth.", "coin/asset: enum COINS: The "
      "coin", "what's the price of {coin}|how much is {coin} worth|{coin} price",
      query=True, kw="crypto|coin|price|worth"),
    K("web", "translate", "translate text|translate|translation",
      "Translate a phrase into another language.|Say a phrase in another language.",
      "text/phrase: text PHRASES: What to translate; target/to_language/language: enum "
      "LANGUAGES: The language", "translate {text} into {target}|how do you say {text} in"
      " {target}|what's {text} in {target}", kw="translate|say|language"),
    K("web", "define", "define word|dictionary|word meaning",
      "Look up the meaning of a word.|A word's dictionary definition.",
      "word/term: text WORDS: The word", "define {word}|what does {word} mean|look up "
      "{word} in the dictionary", query=True, kw="define|mean|meaning|dictionary"),
    K("web", "search", "web search|search web|search internet",
      "Search the web.|Look something up on the internet.", "query/q/terms: text QUERIES:"
      " What to search for", "search the web for {query}|look up {query} online|google "
      "{query}", query=True, catch_all=True, kw="search|look up|google"),
    K("web", "news", "get news|news headlines|read headlines",
      "Read the latest news headlines.|News on a topic.", "topic/category: enum TOPICS: "
      "The topic; count/limit: int 1..10?=5: How many headlines", "what's the latest "
      "{topic} news|read me the {topic} headlines|give me {count} {topic} headlines",
      query=True, kw="news|headlines"),
]
