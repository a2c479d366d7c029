/* Stub of the Wire (I2C) library: TwoWire as in ArduinoCore-API's HardwareI2C. */
#pragma once
#include <Arduino.h>

class TwoWire : public Stream {
 public:
  void begin();
  void begin(uint8_t address);
  void end();
  void setClock(uint32_t freq);
  void beginTransmission(uint8_t address);
  uint8_t endTransmission(bool stopBit = true);
  size_t requestFrom(uint8_t address, size_t len, bool stopBit = true);
  int available() override;
  int read() override;
  int peek() override;
  size_t write(uint8_t) override;
};

extern TwoWire Wire;
