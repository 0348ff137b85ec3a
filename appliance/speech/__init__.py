"""Voice: microphone or WAV -> endpointing -> speech to text -> the tool caller.

Modules, in the order audio flows: :mod:`.audio` (WAV files, the microphone),
:mod:`.endpoint` (where an utterance starts and ends), :mod:`.grammar` (the command grammar
from the tool declarations), :mod:`.stt` (pocketsphinx and vosk behind one interface),
:mod:`.pipeline` (utterances to transcripts, with wake word and timings). Audio to words
only: the microphone as a way in (button, LED, answers) is :mod:`appliance.voice`.
"""
