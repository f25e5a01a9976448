"""The experiment families, one package each (README: "Adding a family").

``<family>/spec.py``: the hyperparameter dataclass (the authors' defaults), the variants, the
config checks and the tables; it imports no TensorFlow, because the workflow reads it when it
parses. ``model.py``: data, model and ``run``. ``analysis.py``: the tables and the report's
values. ``figures.py``: one function per figure. ``theory.py``, where the family computes
something without training.
"""
