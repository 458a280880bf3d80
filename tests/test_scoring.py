"""Static reading of score.py: functions, model loads in run(), exception text returned, model names."""

from __future__ import annotations

from doctor.scoring import analyse

GOOD = '''import json, joblib
from azureml.core.model import Model

def init():
    global model
    model = joblib.load(Model.get_model_path("sklearn-model"))

def run(raw_data):
    return model.predict(json.loads(raw_data)["data"]).tolist()
'''


def test_good_script() -> None:
    facts = analyse(GOOD, "score.py")
    assert facts["has_init"] and facts["has_run"] and facts["syntax_error"] is None
    assert facts["model_names"] == ["sklearn-model"] and facts["model_path_line"] == 6
    assert facts["loads_model_in_run"] is None and facts["returns_exception_text"] is None


def test_model_loaded_in_run_is_found_but_json_loads_is_not() -> None:
    text = "import json, torch\ndef run(raw):\n    data = json.loads(raw)\n    m = torch.jit.load('m.pt')\n    return m(data)\n"
    assert analyse(text, "score.py")["loads_model_in_run"] == 4


def test_exception_text_returned_through_a_variable() -> None:
    text = ("import json\ndef run(data):\n    try:\n        return 1\n    except Exception as e:\n"
            "        result = str(e)\n        return json.dumps({'error': result})\n")
    assert analyse(text, "score.py")["returns_exception_text"] == 7


def test_exception_logged_and_raised_is_fine() -> None:
    text = "def run(data):\n    try:\n        return 1\n    except Exception as e:\n        log(e)\n        raise\n"
    assert analyse(text, "score.py")["returns_exception_text"] is None


def test_syntax_error_has_a_line() -> None:
    facts = analyse("def init(:\n    pass\n", "score.py")
    assert facts["syntax_error_line"] == 1 and not facts["has_run"]
