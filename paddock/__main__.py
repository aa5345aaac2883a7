from paddock.cli.main import app

app()
