# frozen_string_literal: true

require 'json'

module Motia
  # A JSON object as handlers see it: `input.name`, `input[:name]` and `input['name']`
  # all work, as they did with classic Motia's OpenStruct inputs. OpenStruct itself is
  # deprecated in newer Ruby and slow to build, so this is a small Hash wrapper that the
  # JSON parser fills directly (object_class), with no second conversion pass.
  #
  # Keys are stored as strings (as they arrive); `to_h`, `each` and `keys` give symbols,
  # like OpenStruct did. Reading an absent field by name gives nil (OpenStruct again);
  # a snake_case name falls back to its camelCase key, so `req.path_params` reads
  # `pathParams`. Field names that are also Object methods (`hash`, `method`, `class`...)
  # are read with `[]`.
  class Record
    def initialize(hash = nil)
      @table = {}
      hash&.each { |key, value| @table[key.to_s] = value }
    end

    def initialize_copy(other)
      super
      @table = @table.dup
    end

    def self.camel(name)
      name.gsub(/_([a-z\d])/) { Regexp.last_match(1).upcase }
    end

    def [](key)
      name = key.to_s
      @table.fetch(name) { name.include?('_') ? @table[Record.camel(name)] : nil }
    end

    # Also how JSON.parse(object_class: Record) fills a record.
    def []=(key, value)
      @table[key.to_s] = value
    end

    def fetch(key, *default, &block)
      @table.fetch(key.to_s, *default, &block)
    end

    def dig(key, *rest)
      value = self[key]
      return value if rest.empty? || value.nil?

      value.dig(*rest)
    end

    def key?(key)
      @table.key?(key.to_s)
    end
    alias has_key? key?
    alias include? key?
    alias member? key?

    def delete(key)
      @table.delete(key.to_s)
    end

    def keys
      @table.keys.map(&:to_sym)
    end

    def values
      @table.values
    end

    def size
      @table.size
    end
    alias length size

    def empty?
      @table.empty?
    end

    def each(&block)
      return enum_for(:each) { size } unless block

      @table.each { |key, value| yield key.to_sym, value }
      self
    end
    alias each_pair each

    # A plain Hash all the way down, with symbol keys (so `**input.to_h` works).
    def to_h
      @table.each_with_object({}) { |(key, value), out| out[key.to_sym] = Record.plain(value) }
    end

    # The JSON form: string keys, nested records as Hashes.
    def as_json(*)
      @table.transform_values { |value| Record.json_form(value) }
    end

    def to_json(*args)
      @table.to_json(*args)
    end

    def ==(other)
      case other
      when Record then @table == other.__table__
      when Hash then @table == other.transform_keys(&:to_s)
      else false
      end
    end

    def eql?(other)
      other.is_a?(Record) && @table.eql?(other.__table__)
    end

    def hash
      @table.hash
    end

    def inspect
      "#<Motia::Record #{@table.map { |key, value| "#{key}=#{value.inspect}" }.join(', ')}>"
    end
    alias to_s inspect

    def method_missing(name, *args)
      key = name.to_s
      if args.empty?
        return @table[key] if @table.key?(key)
        return super if key.end_with?('?', '!')
        return @table[Record.camel(key)] if key.include?('_')

        nil
      elsif args.length == 1 && key.end_with?('=')
        @table[key.chomp('=')] = args[0]
      else
        super
      end
    end

    def respond_to_missing?(name, include_private = false)
      @table.key?(name.to_s.chomp('=')) || super
    end

    def self.plain(value)
      case value
      when Record then value.to_h
      when Array then value.map { |item| plain(item) }
      else value
      end
    end

    def self.json_form(value)
      case value
      when Record then value.as_json
      when Array then value.map { |item| json_form(item) }
      else value
      end
    end

    protected

    def __table__
      @table
    end
  end
end
