package periph_test

import (
	"fmt"

	"github.com/seed44533760/pact/hw/periph"
)

func ExampleParsePin() {
	for _, s := range []string{"GPIO17", "gpio4", "27", "GPIO 17", "P1_11"} {
		name, n, err := periph.ParsePin(s)
		if err != nil {
			fmt.Printf("%-8q refused\n", s)
			continue
		}
		fmt.Printf("%-8q %s (line %d)\n", s, name, n)
	}
	// Output:
	// "GPIO17" GPIO17 (line 17)
	// "gpio4"  GPIO4 (line 4)
	// "27"     GPIO27 (line 27)
	// "GPIO 17" refused
	// "P1_11"  refused
}
