# Ruby event step: scores the classified document.
def config
  {
    type: 'event',
    name: 'ScoreDocument',
    description: 'Score a classified document',
    subscribes: ['document.classified'],
    emits: ['document.scored'],
    flows: ['documents']
  }
end

def handler(input, context)
  words = input.text.to_s.split
  score = [words.length * 10, 100].min
  context.state.set(context.trace_id, 'score', score)
  context.emit(topic: 'document.scored', data: { id: input.id, title: input.title,
                                                  category: input.category, score: score })
  context.logger.info('Document scored', { id: input.id, score: score })
end
