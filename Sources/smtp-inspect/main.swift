print("smtp-inspect: not yet wired")
