from motia.cli.main import main

main()
