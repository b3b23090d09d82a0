from dropout_lint.cli import main

main()
