import pytest

import kerasrnn.layers as layers


def test_every_recipe_name_builds_its_layer():
    for name, cls in layers.CELLS.items():
        layer = layers.recurrent(name, 4, return_sequences=True)
        assert type(layer) is cls and layer.return_sequences


def test_unknown_cell_lists_known_ones():
    with pytest.raises(ValueError, match="'transformer'.*gru, .*lstm"):
        layers.recurrent("transformer", 4)
