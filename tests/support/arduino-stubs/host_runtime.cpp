/* A host stand-in for the parts of the Arduino runtime the Nicla Vision motion sketch uses, so
 * tests/arduino_library.rs can run the sketch itself on the PC: Serial prints to stdout as
 * Arduino's Print does (floats with the given number of decimals), micros() advances one
 * microsecond per call, and the LSM6DSOX returns the readings (in g) of host_readings.h, which
 * the test writes. main() runs setup() and loop() HOST_LOOPS times. */
#include <stdio.h>

#include <Arduino_LSM6DSOX.h>

#include "host_readings.h"

HardwareSerial Serial;
TwoWire Wire;
LSM6DSOXClass IMU_LSM6DSOX(Wire, 0x6A);

static unsigned long now_us;
static size_t next_reading;

unsigned long micros(void) { return ++now_us; }
unsigned long millis(void) { return now_us / 1000; }
void delay(unsigned long ms) { now_us += ms * 1000; }

size_t Print::write(const uint8_t *buffer, size_t size) {
  return fwrite(buffer, 1, size, stdout);
}
size_t Print::print(const char text[]) { return (size_t)printf("%s", text); }
size_t Print::print(char c) { return (size_t)printf("%c", c); }
size_t Print::print(int n, int) { return (size_t)printf("%d", n); }
size_t Print::print(unsigned int n, int) { return (size_t)printf("%u", n); }
size_t Print::print(long n, int) { return (size_t)printf("%ld", n); }
size_t Print::print(unsigned long n, int) { return (size_t)printf("%lu", n); }
size_t Print::print(double x, int digits) { return (size_t)printf("%.*f", digits, x); }
size_t Print::println(const char text[]) { return print(text) + println(); }
size_t Print::println(int n, int base) { return print(n, base) + println(); }
size_t Print::println(unsigned long n, int base) { return print(n, base) + println(); }
size_t Print::println(double x, int digits) { return print(x, digits) + println(); }
size_t Print::println(void) { return (size_t)printf("\r\n"); }

void HardwareSerial::begin(unsigned long) {}
HardwareSerial::operator bool() { return true; }
int HardwareSerial::available() { return 0; }
int HardwareSerial::read() { return -1; }
int HardwareSerial::peek() { return -1; }
size_t HardwareSerial::write(uint8_t c) { return (size_t)putchar(c) != (size_t)EOF; }

int TwoWire::available() { return 0; }
int TwoWire::read() { return -1; }
int TwoWire::peek() { return -1; }
size_t TwoWire::write(uint8_t) { return 1; }

LSM6DSOXClass::LSM6DSOXClass(TwoWire &, uint8_t) {}
LSM6DSOXClass::~LSM6DSOXClass() {}
int LSM6DSOXClass::begin() { return 1; }
int LSM6DSOXClass::accelerationAvailable() { return 1; }
int LSM6DSOXClass::readAcceleration(float &x, float &y, float &z) {
  const float *r = &host_readings_g[3 * (next_reading++ % HOST_READINGS)];
  x = r[0];
  y = r[1];
  z = r[2];
  return 1;
}

void setup();
void loop();

int main() {
  setup();
  for (int i = 0; i < HOST_LOOPS; ++i) {
    loop();
  }
  return 0;
}
