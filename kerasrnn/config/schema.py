"""The whole recipe schema: every key, its type, default, range and help, by section."""

from kerasrnn.config.data_section import DATA
from kerasrnn.config.fields import TYPES, Field
from kerasrnn.config.model_section import MODEL
from kerasrnn.config.run_sections import DECODING, EXPORT, TRAINING

SCHEMA = {
    "name": Field(
        (str,),
        None,
        "Run name; the default run folder is saved_models/<name>/.",
        required=True,
    ),
    "type": Field(
        (str,), None, "The RNN architecture type.", choices=TYPES, required=True
    ),
    "description": Field((str,), None, "Free text about the recipe.", nullable=True),
    "data": DATA,
    "model": MODEL,
    "training": TRAINING,
    "decoding": DECODING,
    "export": EXPORT,
}
