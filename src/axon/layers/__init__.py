"""Layers: the building blocks of the model (the first step: a set of functions)."""

from axon.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from axon.layers.attention import MultiHeadSelfAttention
from axon.layers.base import LAYER_REGISTRY, Layer, register_layer
from axon.layers.conv import Conv2D
from axon.layers.conv1d import Conv1D
from axon.layers.dense import Dense
from axon.layers.dropout import Dropout
from axon.layers.embedding import Embedding
from axon.layers.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from axon.layers.pooling import AvgPool2D, MaxPool2D
from axon.layers.pooling1d import AvgPool1D, GlobalAvgPool1D, MaxPool1D
from axon.layers.positional import PositionalEncoding
from axon.layers.recurrent import GRU, LSTM, RNN, reset_states
from axon.layers.reshape import Flatten, Reshape
from axon.layers.residual import Residual

__all__ = ["Layer", "register_layer", "LAYER_REGISTRY", "Dense", "Sigmoid", "Tanh", "ReLU",
           "LeakyReLU", "Softmax", "Identity", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D",
           "BatchNorm1d", "BatchNorm2d", "Flatten", "Reshape",
           "Conv1D", "MaxPool1D", "AvgPool1D", "GlobalAvgPool1D", "Embedding", "RNN", "LSTM", "GRU",
           "LayerNorm", "MultiHeadSelfAttention", "PositionalEncoding", "Residual", "reset_states"]
