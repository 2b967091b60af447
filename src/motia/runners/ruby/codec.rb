# frozen_string_literal: true

require 'json'
require 'time'
require_relative 'record'

module Motia
  module Runner
    # Turns what Ruby code hands us (configs, return values, emitted data, log fields)
    # into plain JSON values: string keys, symbols as strings, Time as ISO 8601, records
    # as objects. Done by hand rather than with to_json because JSON's defaults are wrong
    # for us here (Time#to_s, Proc#to_s, NaN raising, invalid UTF-8 raising).
    module Codec
      UTF8 = Encoding::UTF_8
      BINARY = Encoding::BINARY

      module_function

      def callable?(value)
        value.is_a?(Proc) || value.is_a?(Method) || value.is_a?(UnboundMethod)
      end

      def value(obj)
        case obj
        when nil, true, false, Integer then obj
        when String then string(obj)
        when Symbol then obj.to_s
        when Float then obj.finite? ? obj : nil
        when Hash then hash(obj)
        when Array then obj.map { |item| callable?(item) ? nil : value(item) }
        when Record then hash(obj.__send__(:__table__))
        when Time then obj.iso8601(3)
        when DateTime then obj.iso8601(3)
        when Date then obj.iso8601
        when Numeric then obj.integer? ? obj.to_i : value(obj.to_f)
        when Struct then hash(obj.to_h)
        else other(obj)
        end
      end

      # Hash entries holding functions are left out, as JSON.stringify does in JavaScript.
      def hash(obj)
        out = {}
        obj.each do |key, item|
          next if callable?(item)

          out[key_string(key)] = value(item)
        end
        out
      end

      def key_string(key)
        key.is_a?(String) ? string(key) : key.to_s
      end

      def string(str)
        enc = str.encoding
        return str if enc == UTF8 && str.valid_encoding?
        return str.scrub if enc == UTF8

        if enc == BINARY
          utf8 = str.dup.force_encoding(UTF8)
          return utf8.valid_encoding? ? utf8 : utf8.scrub
        end
        str.encode(UTF8, invalid: :replace, undef: :replace)
      end

      # A binary String (bytes that are not text) as the body of an API response; the
      # server turns this form back into bytes.
      def binary?(obj)
        obj.is_a?(String) && obj.encoding == BINARY && !obj.ascii_only?
      end

      def buffer(str)
        { 'type' => 'Buffer', 'data' => str.bytes }
      end

      def other(obj)
        return nil if callable?(obj)
        return value(obj.as_json) if obj.respond_to?(:as_json)
        return value(obj.to_a) if defined?(::Set) && obj.is_a?(::Set)
        # OpenStruct and other hash-like objects; Enumerables (Enumerator, Range...) are not.
        return value(obj.to_h) if obj.respond_to?(:to_h) && !obj.is_a?(Enumerable)

        string(obj.to_s)
      end

      # A step's config: also returns the names of the top-level fields that held
      # functions (a callable, or a list of callables such as `middleware`), which are
      # removed. `can_access` is named `canAccess`, as the protocol's invoke kind is.
      def config(obj)
        functions = []
        out = {}
        obj.each do |key, item|
          name = key_string(key)
          if callable?(item) || (item.is_a?(Array) && !item.empty? && item.all? { |i| callable?(i) })
            functions << (name == 'can_access' ? 'canAccess' : name)
          else
            out[name] = value(item)
          end
        end
        [out, functions]
      end
    end
  end
end
