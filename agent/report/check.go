package report

// Check is everything New checks before it connects: the settings
// (Validate), the password file, and the TLS files. An agent reloading its
// broker settings calls it first, so that a mistake in the new settings
// leaves the running Reporter alone.
func (c *Config) Check() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if _, err := c.password(); err != nil {
		return err
	}
	_, err := c.tlsConfig()
	return err
}
