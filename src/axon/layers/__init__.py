"""Layers: the building blocks of the model (the first step: a set of functions)."""

from axon.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from axon.layers.base import LAYER_REGISTRY, Layer, register_layer
from axon.layers.conv import Conv2D
from axon.layers.dense import Dense
from axon.layers.dropout import Dropout
from axon.layers.normalization import BatchNorm1d, BatchNorm2d
from axon.layers.pooling import AvgPool2D, MaxPool2D
from axon.layers.reshape import Flatten, Reshape

__all__ = ["Layer", "register_layer", "LAYER_REGISTRY", "Dense", "Sigmoid", "Tanh", "ReLU",
           "LeakyReLU", "Softmax", "Identity", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D",
           "BatchNorm1d", "BatchNorm2d", "Flatten", "Reshape"]
