"""Offline voice and IoT agent appliance.

The pipeline, one module (or package) per stage::

    speech/ (microphone, endpointing, STT) ─┐
    daemon/ (MQTT commands)  ───────────────┼─> caller/ (FunctionGemma: words -> one ToolCall)
    cli (ask, listen)        ───────────────┘          │
                                                       v
                              executors/ (gpio, mqtt, http) -> ActionResult
"""

__version__ = "0.1.0"
