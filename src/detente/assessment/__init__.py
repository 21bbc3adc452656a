"""Assessment, monitoring and evaluation: initiatives, objectives, indicators and their
observations, evaluations and lessons; effect studies."""
