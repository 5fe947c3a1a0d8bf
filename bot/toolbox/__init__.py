"""The course toolbox as chat flows: problem threads (cases) and the steps they walk through."""
