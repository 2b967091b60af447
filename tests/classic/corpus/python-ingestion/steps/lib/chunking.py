def split_into_chunks(text, size=16):
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
