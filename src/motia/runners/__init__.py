"""Runners: JavaScript, TypeScript and Ruby steps in long-lived processes of their own."""
