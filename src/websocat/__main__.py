from websocat.main import main

raise SystemExit(main())
