"""The build beyond pyproject.toml: the traffic pass's C extension, and the rule pack inside the package.

The extension is optional: where no C compiler is found, `pip install .` still installs mldoctor and the NumPy
pass counts the same statistics (`mldoctor --version` says which pass is in use).
"""

from setuptools import Extension, find_namespace_packages, setup

setup(
    # every package under doctor/, and the rule pack (./rules in a checkout) as doctor/builtin_rules
    packages=[*find_namespace_packages(include=["doctor", "doctor.*"]), "doctor.builtin_rules"],
    package_dir={"doctor.builtin_rules": "rules"},
    ext_modules=[Extension("doctor._native", ["doctor/_native.c"], optional=True)],
)
