"""Every Keras layer of kerasrnn, and `recurrent()`, the factory the builders use."""

from kerasrnn.layers.bidirectional import Bidirectional
from kerasrnn.layers.char_cnn import CharCNN
from kerasrnn.layers.crf import CRF, CRFLoss, ViterbiAccuracy, crf_marginals, viterbi_decode
from kerasrnn.layers.ctc import (
    BLANK_ID,
    CTCLoss,
    MaskedBlank,
    MemberScores,
    Upsample1D,
    ctc_alignable,
)
from kerasrnn.layers.gru import GRU
from kerasrnn.layers.gru_cell import GRUCell
from kerasrnn.layers.layer_norm_gru import LayerNormGRU
from kerasrnn.layers.layer_norm_gru_cell import LayerNormGRUCell
from kerasrnn.layers.layer_norm_lstm import LayerNormLSTM
from kerasrnn.layers.layer_norm_lstm_cell import LayerNormLSTMCell
from kerasrnn.layers.lstm import LSTM
from kerasrnn.layers.lstm_cell import LSTMCell
from kerasrnn.layers.min_gru import MinGRU, MinGRUCell
from kerasrnn.layers.min_lstm import MinLSTM, MinLSTMCell
from kerasrnn.layers.minimal_gru import MinimalGRU
from kerasrnn.layers.minimal_gru_cell import MinimalGRUCell
from kerasrnn.layers.pooling import MaskedMaxPooling1D
from kerasrnn.layers.recurrent_base import RecurrentBase
from kerasrnn.layers.recurrent_cell import RecurrentCell
from kerasrnn.layers.registry import CELLS, recurrent
from kerasrnn.layers.reverse_tokens import ReverseTokens
from kerasrnn.layers.sampled_softmax import PerTokenLoss, SampledSoftmax
from kerasrnn.layers.simple_rnn import SimpleRNN
from kerasrnn.layers.simple_rnn_cell import SimpleRNNCell
from kerasrnn.layers.stacked_rnn import StackedRNN
from kerasrnn.layers.step_concat import StepConcat
from kerasrnn.layers.step_logits import StepLogits
from kerasrnn.layers.tied_embedding import TiedEmbedding
from kerasrnn.layers.token_dropout import TokenDropout
