import pytest

from mlpzero import activations, losses, optimizers, schedules
from mlpzero.registry import resolve


def test_every_component_kind_takes_a_name_a_config_and_an_instance():
    adam = optimizers.get({"name": "Adam", "betas": (0.8, 0.9)}, learning_rate=0.5)
    assert isinstance(adam, optimizers.Adam)
    assert (tuple(adam.betas), adam.learning_rate) == ((0.8, 0.9), 0.5)
    assert optimizers.get(adam) is adam
    assert optimizers.get(adam.config).config == adam.config
    leaky = activations.get({"name": "leaky_relu", "alpha": 0.3})
    assert activations.get(leaky.config) == leaky
    assert isinstance(losses.get("MSE"), losses.SquaredError)
    assert losses.get(losses.get("bce").config) == losses.BinaryCrossEntropy()
    assert isinstance(schedules.get(None), schedules.Constant)


def test_errors_name_the_kind_and_echo_the_value():
    registry = {"one": dict}
    with pytest.raises(ValueError, match=r"unknown widget 'two'; expected one of: one"):
        resolve("widget", "two", list, registry)
    with pytest.raises(
        TypeError, match=r"widget must be a name, an instance of list or a config dict, got"
    ):
        resolve("widget", 3.5, list, registry)
    with pytest.raises(TypeError, match=r"a widget config needs a 'name'"):
        resolve("widget", {"size": 2}, list, registry)
    with pytest.raises(TypeError, match=r"optimizer 'sgd': .*unexpected keyword"):
        optimizers.get("sgd", betas=(0.9, 0.99))


@pytest.mark.parametrize("key", ["kind", "value", "base", "registry", "aliases"])
def test_a_setting_named_like_a_parameter_of_resolve_is_an_unknown_setting(key):
    # Such a setting belongs to the component: it is refused as the component refuses
    # any setting it does not have, not taken for one of the lookup's own arguments.
    with pytest.raises(TypeError, match=rf"optimizer 'sgd': .*unexpected keyword.*'{key}'"):
        optimizers.get({"name": "sgd", key: 1})
    with pytest.raises(TypeError, match=rf"optimizer 'sgd': .*unexpected keyword.*'{key}'"):
        optimizers.get("sgd", **{key: 1})


def test_a_config_key_that_is_not_a_name_is_named_in_the_error():
    with pytest.raises(TypeError, match=r"optimizer config's keys are setting names, got 1"):
        optimizers.get({"name": "sgd", 1: 2})
