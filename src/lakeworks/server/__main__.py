from lakeworks.server.main import main

main()
