"""Layers: the building blocks of the model (the first step: a set of functions)."""

from axon.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from axon.layers.base import LAYER_REGISTRY, Layer, register_layer
from axon.layers.dense import Dense
from axon.layers.dropout import Dropout

__all__ = ["Layer", "register_layer", "LAYER_REGISTRY", "Dense", "Sigmoid", "Tanh", "ReLU",
           "LeakyReLU", "Softmax", "Identity", "Dropout"]
