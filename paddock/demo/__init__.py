"""The demo project a first start creates: a tiny web app and a scripted demo agent."""
