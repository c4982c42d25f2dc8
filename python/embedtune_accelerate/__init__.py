"""EmbedTune's accelerate engine: trains an EmbedTune run with sentence-transformers under `accelerate launch`.

`embedtune train` (the Node.js CLI) prepares the run folder and a launch plan, then starts
`python -m accelerate.commands.launch ... -m embedtune_accelerate.train --plan <run>/accelerate/launch.json`.
The run writes the same events.jsonl and checkpoint layout as the built-in TensorFlow.js engine.
"""
