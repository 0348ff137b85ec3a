"""Voice: microphone or WAV -> endpointing -> speech to text -> the tool caller.

Modules, in the order audio flows: :mod:`.audio` (WAV files, the microphone),
:mod:`.endpoint` (where an utterance starts and ends), :mod:`.grammar` (the command grammar
from the tool declarations), :mod:`.stt` (pocketsphinx and vosk behind one interface),
:mod:`.pipeline` (utterances to transcripts, with wake word and timings) and
:mod:`.listener` (the daemon's microphone loop, push-to-talk button and status LED).
"""
