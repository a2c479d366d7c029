/* Stub of the mbed cores' PDM library (ArduinoCore-mbed libraries/PDM/src/PDM.h). */
#pragma once
#include <Arduino.h>

class PDMClass {
 public:
  PDMClass(int dinPin, int clkPin, int pwrPin);
  int begin(int channels, int sampleRate);
  void end();
  virtual int available();
  virtual int read(void *buffer, size_t size);
  void onReceive(void (*)(void));
  void setGain(int gain);
  void setBufferSize(int bufferSize);
  size_t getBufferSize();
};

extern PDMClass PDM;
